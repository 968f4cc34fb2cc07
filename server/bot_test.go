package main

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// The bot words each notice with reply and posts it in the user's direct
// channel; a notice with nothing to tell posts nothing.
func TestBotNotifierWordsTheNotice(t *testing.T) {
	api := &plugintest.API{}
	t.Cleanup(func() { api.AssertExpectations(t) })
	api.On("GetDirectChannel", "u1", "bot1").Return(&model.Channel{Id: "dm1"}, nil).Once()
	type post struct{ channel, user, message string }
	var posted []post
	api.On("CreatePost", mock.Anything).Run(func(args mock.Arguments) {
		p := args.Get(0).(*model.Post)
		posted = append(posted, post{p.ChannelId, p.UserId, p.Message})
	}).Return(&model.Post{Id: "p1"}, nil).Once()
	n := &botNotifier{client: pluginapi.NewClient(api, nil), botID: "bot1"}

	done := account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: account.Change{
		ID: "c1", OldEmail: "ann@example.org", NewEmail: "ann@new.example.org", State: account.StateDone, Mattermost: account.StatusChanged, Zulip: account.StatusChanged,
	}}}
	if err := n.Notify("u1", done); err != nil {
		t.Fatal(err)
	}
	if len(posted) != 1 || posted[0] != (post{"dm1", "bot1", reply.Notice(done)}) || posted[0].message == "" {
		t.Fatalf("posted %+v", posted)
	}

	waiting := account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: account.Change{ID: "c2", State: account.StateWaitingForZulip}}}
	if err := n.Notify("u1", waiting); err != nil || len(posted) != 1 {
		t.Errorf("a notice with nothing to tell: %v, %d posts", err, len(posted))
	}
}
