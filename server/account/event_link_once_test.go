package account

import (
	"context"
	"testing"
)

// countingLinks counts the reads of links.
type countingLinks struct {
	*memLinks
	reads int
}

func (c *countingLinks) Link(userID string) (Link, bool, error) {
	c.reads++
	return c.memLinks.Link(userID)
}

func (c *countingLinks) LinkOfZulip(zulipUserID int) (Link, bool, error) {
	c.reads++
	return c.memLinks.LinkOfZulip(zulipUserID)
}

// Issue 17: Zulip's event for a change Account Sync made costs the event
// follower one read of the link (with its owner), not two; a change made
// in Zulip elsewhere is still offered.
func TestEventOfOwnChangeReadsTheLinkOnce(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: annNew})
	links := &countingLinks{memLinks: h.links}
	svc := linksService(h, links, nil)
	if svc.ZulipAccountChanged(context.Background(), 10, annNew) {
		t.Fatal("Account Sync's own change was offered back")
	}
	if links.reads != 1 {
		t.Errorf("%d reads of the link, want 1", links.reads)
	}
	if len(h.notes.sent) != 0 {
		t.Errorf("notices %+v", h.notes.sent)
	}

	// Ann's Mattermost is at the agreed address; Zulip moved on elsewhere.
	h.mm.users["u1"].Email = annNew
	h.z.accounts[10].addr = "ann.z@example.org"
	links.reads = 0
	if !svc.ZulipAccountChanged(context.Background(), 10, "ann.z@example.org") {
		t.Fatalf("a change made in Zulip was not offered; notices %+v", h.notes.sent)
	}
}
