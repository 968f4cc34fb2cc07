package zulip_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest/spectest"
)

func TestClientByIDAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	zs, c := newEmulated(t)
	ann := zs.AddUser(zuliptest.User{Email: "ann/x@example.org", FullName: "Ann"})
	hidden := zs.AddUser(zuliptest.User{Email: "hidden@example.org", FullName: "Hidden", EmailVisibility: zuliptest.VisibilityNobody})
	zs.AddUser(zuliptest.User{Email: "bob@example.org", FullName: "Bob"})

	u, err := c.GetUserByID(ctx, hidden.ID)
	if err != nil || u.ID != hidden.ID || u.RealAddress() != "" || u.Email != zs.DummyEmail(hidden.ID) {
		t.Fatalf("get hidden by id: %+v %v", u, err)
	}
	if _, err := c.GetUserByID(ctx, 99999); zulip.ReasonOf(err) != zulip.ReasonNoSuchUser {
		t.Errorf("unknown id: %v", err)
	}

	// By ID, neither the slash nor the visibility is in the way.
	if err := c.ChangeEmailByID(ctx, ann.ID, "ann.new@example.org"); err != nil {
		t.Fatalf("change ann: %v", err)
	}
	if err := c.ChangeEmailByID(ctx, hidden.ID, "hidden.new@example.org"); err != nil {
		t.Fatalf("change hidden: %v", err)
	}
	for id, want := range map[int]string{ann.ID: "ann.new@example.org", hidden.ID: "hidden.new@example.org"} {
		if got, _ := zs.User(id); got.Email != want {
			t.Errorf("user %d has %q, want %q", id, got.Email, want)
		}
	}
	if err := c.ChangeEmailByID(ctx, ann.ID, "bob@example.org"); zulip.ReasonOf(err) != zulip.ReasonEmailInUse {
		t.Errorf("taken: %v", err)
	}
	if err := c.ChangeEmailByID(ctx, 99999, "x@example.org"); zulip.ReasonOf(err) != zulip.ReasonNoSuchUser {
		t.Errorf("unknown id: %v", err)
	}

	users, err := c.Users(ctx)
	if err != nil || len(users) != len(zs.Users()) {
		t.Fatalf("users: %d %v", len(users), err)
	}
	byID := map[int]zulip.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	if byID[ann.ID].RealAddress() != "ann.new@example.org" || byID[hidden.ID].RealAddress() != "" || byID[hidden.ID].Email != zs.DummyEmail(hidden.ID) {
		t.Errorf("users: ann %+v hidden %+v", byID[ann.ID], byID[hidden.ID])
	}

	id, err := c.SendDirectMessage(ctx, hidden.ID, "Your code is 123456")
	if err != nil || id <= 0 {
		t.Fatalf("send: %d %v", id, err)
	}
	msgs := zs.DirectMessages()
	me, _ := zs.UserByEmail(botEmail)
	if len(msgs) != 1 || msgs[0].ID != id || msgs[0].SenderID != me.ID || len(msgs[0].To) != 1 || msgs[0].To[0] != hidden.ID || msgs[0].Content != "Your code is 123456" {
		t.Errorf("messages %+v", msgs)
	}
	if _, err := c.SendDirectMessage(ctx, 99999, "x"); zulip.ReasonOf(err) != zulip.ReasonBadRequest {
		t.Errorf("unknown recipient: %v", err)
	}
}

func TestClientChangeEmailByIDBelow313(t *testing.T) {
	zs, c := newEmulated(t, zuliptest.WithFeatureLevel(312))
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org"})
	if err := c.ChangeEmailByID(context.Background(), ann.ID, "ann.new@example.org"); !errors.Is(err, zulip.ErrEmailIgnored) {
		t.Fatalf("err = %v, want ErrEmailIgnored", err)
	}
	if got, _ := zs.User(ann.ID); got.Email != "ann@example.org" {
		t.Errorf("changed to %q", got.Email)
	}
}

func TestClientAgainstEmulatedRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		zs, c := newEmulated(t)
		ann := zs.AddUser(zuliptest.User{Email: "ann@example.org"})
		zs.AddFault(zuliptest.Fault{Kind: zuliptest.FaultRedirect, Status: status, Location: "https://zulip.example.net/api/v1/users/" + "x"})
		err := c.ChangeEmailByID(context.Background(), ann.ID, "ann.new@example.org")
		var re *zulip.RedirectError
		if !errors.As(err, &re) || re.Status != status || re.TargetScheme != "https" || re.TargetHost != "zulip.example.net" {
			t.Errorf("%d: err = %v", status, err)
		}
		if got, _ := zs.User(ann.ID); got.Email != "ann@example.org" {
			t.Errorf("%d: changed to %q", status, got.Email)
		}
	}
}

// TestClientLateCommit: the client times out, reports an unknown outcome,
// and the change lands anyway.
func TestClientLateCommit(t *testing.T) {
	zs := zuliptest.NewServer(zuliptest.WithMiddleware(spectest.Load(t).Middleware(t)))
	t.Cleanup(zs.Close)
	zs.AddBot(botEmail, botKey, zuliptest.RoleOwner, true)
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org"})
	c, err := zulip.NewClient(zulip.Config{SiteURL: zs.URL, BotEmail: botEmail, APIKey: botKey, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	zs.AddFault(zuliptest.Fault{Method: "PATCH", Kind: zuliptest.FaultLateCommit, Delay: 300 * time.Millisecond, Times: 1})
	err = c.ChangeEmailByID(context.Background(), ann.ID, "ann.late@example.org")
	var ue *zulip.UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) || !zulip.IsTransient(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := zs.User(ann.ID); got.Email == "ann.late@example.org" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change never committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
