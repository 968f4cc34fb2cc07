package account

import (
	"context"
	"strings"
	"testing"
	"time"
)

func (m *memLinkCodes) CodesSent(userID string) ([]time.Time, error) {
	return append([]time.Time(nil), m.sent[userID]...), nil
}

func (m *memLinkCodes) SaveCodesSent(userID string, sent []time.Time) error {
	if m.sent == nil {
		m.sent = map[string][]time.Time{}
	}
	m.sent[userID] = append([]time.Time(nil), sent...)
	return nil
}

func (m *memLinkCodes) UpdateZulipCodesSent(zulipID int, update func([]time.Time) ([]time.Time, bool)) error {
	next, save := update(append([]time.Time(nil), m.zulipSent[zulipID]...))
	if !save {
		return nil
	}
	if m.zulipSent == nil {
		m.zulipSent = map[int][]time.Time{}
	}
	m.zulipSent[zulipID] = next
	return nil
}

// Linking deletes the pending code, never the count of codes sent: link,
// unlink and link again gets no more than MaxLinkCodesPerDay codes a day.
func TestLinkUnlinkLinkKeepsTheCodeCount(t *testing.T) {
	h := linkHarness()
	svc := h.service()
	ctx := context.Background()
	start := h.clock.t
	for i := 1; i <= MaxLinkCodesPerDay; i++ {
		if lr := svc.Link(ctx, "u1", "s-u1", "ann.z@example.org"); lr.Outcome != LinkOutcomeCodeSent {
			t.Fatalf("code %d: %+v", i, lr)
		}
		if lr := svc.Link(ctx, "u1", "s-u1", sentCode(t, h)); lr.Outcome != LinkOutcomeLinked {
			t.Fatalf("link %d: %+v", i, lr)
		}
		if lr := svc.Unlink(ctx, "u1", "s-u1"); lr.Outcome != LinkOutcomeUnlinked {
			t.Fatalf("unlink %d: %+v", i, lr)
		}
		h.clock.advance(LinkCodeResend)
	}
	lr := svc.Link(ctx, "u1", "s-u1", "ann.z@example.org")
	if lr.Outcome != LinkOutcomeTooManyCodes || !lr.Until.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("code %d: %+v", MaxLinkCodesPerDay+1, lr)
	}
	if len(h.z.dms) != MaxLinkCodesPerDay || len(h.codes.sent["u1"]) != MaxLinkCodesPerDay {
		t.Fatalf("%d messages sent, %d codes counted; want %d", len(h.z.dms), len(h.codes.sent["u1"]), MaxLinkCodesPerDay)
	}
	if _, pending := h.codes.codes["u1"]; pending {
		t.Error("a refused request left a pending code")
	}
	if _, linked, _ := h.links.Link("u1"); linked {
		t.Error("linked by a refused request")
	}

	// The first code leaves the 24 hours: one more may be sent.
	h.clock.t = start.Add(24*time.Hour + time.Second)
	if lr := svc.Link(ctx, "u1", "s-u1", "ann.z@example.org"); lr.Outcome != LinkOutcomeCodeSent || len(h.z.dms) != MaxLinkCodesPerDay+1 {
		t.Fatalf("a day later: %+v", lr)
	}
	if got := h.codes.sent["u1"]; len(got) != MaxLinkCodesPerDay || !got[len(got)-1].Equal(h.clock.t) {
		t.Errorf("the count kept %v", got)
	}
}

// One Zulip account gets at most MaxZulipCodesPerDay codes a day, however
// many Mattermost users ask for them.
func TestZulipAccountCodeLimit(t *testing.T) {
	h := linkHarness()
	h.mm.add(User{ID: "u2", Username: "bob", Email: "bob@example.org"})
	h.mm.add(User{ID: "u3", Username: "cy", Email: "cy@example.org"})
	svc := h.service()
	ctx := context.Background()
	start := h.clock.t
	askers := []string{"u1", "u2", "u1", "u2", "u1"} // each user under their own limit
	for i, u := range askers {
		if lr := svc.Link(ctx, u, "s-"+u, "ann.z@example.org"); lr.Outcome != LinkOutcomeCodeSent {
			t.Fatalf("code %d for %s: %+v", i+1, u, lr)
		}
		h.clock.advance(LinkCodeResend)
	}

	for _, u := range []string{"u3", "u2"} {
		lr := svc.Link(ctx, u, "s-"+u, "ann.z@example.org")
		if lr.Outcome != LinkOutcomeZulipCodeLimit || !lr.Until.Equal(start.Add(24*time.Hour)) || lr.Address != "ann.z@example.org" {
			t.Fatalf("%s, code %d for the account: %+v", u, MaxZulipCodesPerDay+1, lr)
		}
	}
	if len(h.z.dms) != MaxZulipCodesPerDay || len(h.codes.zulipSent[10]) != MaxZulipCodesPerDay {
		t.Fatalf("%d messages, %d counted for the account; want %d", len(h.z.dms), len(h.codes.zulipSent[10]), MaxZulipCodesPerDay)
	}
	if _, pending := h.codes.codes["u3"]; pending || len(h.codes.sent["u3"]) != 0 {
		t.Errorf("a refused request left a code %v or a count %v", h.codes.codes["u3"], h.codes.sent["u3"])
	}
	if !strings.Contains(h.log.String(), "the Zulip account was sent the most codes a day") {
		t.Errorf("the refusal was not logged: %s", h.log.String())
	}

	// Another Zulip account has its own count.
	if lr := svc.Link(ctx, "u3", "s-u3", "other@example.org"); lr.Outcome != LinkOutcomeCodeSent || h.z.dms[len(h.z.dms)-1].to != 11 {
		t.Fatalf("another Zulip account: %+v", lr)
	}
	// Once the first code leaves the 24 hours, one more may be sent.
	h.clock.t = start.Add(24*time.Hour + time.Second)
	if lr := svc.Link(ctx, "u3", "s-u3", "ann.z@example.org"); lr.Outcome != LinkOutcomeCodeSent || h.z.dms[len(h.z.dms)-1].to != 10 {
		t.Fatalf("a day later: %+v", lr)
	}
	if got := h.codes.zulipSent[10]; len(got) != MaxZulipCodesPerDay {
		t.Errorf("the account's count kept %d codes, want %d", len(got), MaxZulipCodesPerDay)
	}
}
