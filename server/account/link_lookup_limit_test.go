package account

import (
	"context"
	"testing"
)

// README: "20 attempts per hour that reach Zulip (changes and /account
// link address lookups, found or not), so one user cannot spend the bot's
// Zulip rate limit". A linked user typing `/account link x` (or link /
// unlink) makes the bot read their Zulip account every time, uncounted:
// one user can send Zulip any number of requests.
func TestReviewAlreadyLinkedLookupsAreUncounted(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
		t.Fatal(err)
	}
	s := h.service()
	for range 100 {
		res := s.Link(context.Background(), "u1", "s-u1", "someone@example.org")
		if res.Outcome != LinkOutcomeAlreadyLinked {
			t.Fatalf("outcome %s", res.Outcome)
		}
	}
	if h.z.calls > MaxAttemptsPerHour {
		t.Errorf("one user's 100 `/account link` sent Zulip %d requests in a minute; the hourly limit is %d", h.z.calls, MaxAttemptsPerHour)
	}
}
