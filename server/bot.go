package main

import (
	"fmt"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// The plugin's bot sends users direct messages about changes finished in
// the background.
const (
	botUsername    = "account-sync"
	botDisplayName = "Account Sync"
	botDescription = "Tells you when an email change made in the background is done or failed."
	botIconPath    = "assets/bot.png"
)

// ensureBot creates the bot on first activation and returns its user id.
func (p *Plugin) ensureBot() (string, error) {
	id, err := p.client.Bot.EnsureBot(&model.Bot{Username: botUsername, DisplayName: botDisplayName, Description: botDescription},
		pluginapi.ProfileImagePath(botIconPath))
	if err != nil {
		return "", fmt.Errorf("ensuring the bot account: %w", err)
	}
	return id, nil
}

// botNotifier sends direct messages from the bot (account.Notifier),
// worded by reply.
type botNotifier struct {
	client *pluginapi.Client
	botID  string
}

// Notify posts the notice's text in the direct channel between the user
// and the bot; a notice with nothing to tell posts nothing.
func (n *botNotifier) Notify(userID string, notice account.Notice) error {
	post := &model.Post{Message: reply.Notice(notice)}
	switch notice.Kind {
	case account.NoticeOffer:
		post = offerPost(notice.Offer)
	case account.NoticeMigrationPlan:
		post = migrationPlanPost(notice.Migration, post.Message)
	}
	if post.Message == "" {
		return nil
	}
	ch, err := n.client.Channel.GetDirect(userID, n.botID)
	if err != nil {
		return fmt.Errorf("opening the direct channel: %w", err)
	}
	post.ChannelId, post.UserId = ch.Id, n.botID
	if err := n.client.Post.CreatePost(post); err != nil {
		return fmt.Errorf("posting the direct message: %w", err)
	}
	return nil
}
