package account

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

var codeInDM = regexp.MustCompile("`/account link ([0-9]{6})`")

// linkHarness: Ann's Mattermost email differs from her Zulip account's
// (account 10, ann.z@example.org), so only a code can prove it is hers.
func linkHarness() *harness {
	return newHarness([]User{{ID: "u1", Username: "ann", Email: ann, EmailVerified: true}}, "ann.z@example.org", "other@example.org")
}

func sentCode(t *testing.T, h *harness) string {
	t.Helper()
	if len(h.z.dms) == 0 {
		t.Fatal("no direct message was sent")
	}
	m := codeInDM.FindStringSubmatch(h.z.dms[len(h.z.dms)-1].content)
	if m == nil {
		t.Fatalf("no code in the message: %s", h.z.dms[len(h.z.dms)-1].content)
	}
	return m[1]
}

func TestLinkByCode(t *testing.T) {
	h := linkHarness()
	svc := h.service()

	res := svc.ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeNotLinked {
		t.Fatalf("before linking: %v", res.Failure)
	}

	lr := svc.Link(context.Background(), "u1", "s-u1", "Ann.Z@example.org")
	if lr.Outcome != LinkOutcomeCodeSent || lr.Address != "ann.z@example.org" {
		t.Fatalf("link: %+v", lr)
	}
	if len(h.z.dms) != 1 || h.z.dms[0].to != 10 || !strings.Contains(h.z.dms[0].content, "`@ann`") {
		t.Fatalf("direct messages = %+v", h.z.dms)
	}
	code := sentCode(t, h)
	stored := h.codes.codes["u1"]
	if stored.ZulipUserID != 10 || stored.TriesLeft != LinkCodeTries || !stored.ExpiresAt.Equal(h.clock.t.Add(LinkCodeTTL)) ||
		stored.Hash == "" || strings.Contains(stored.Hash, code) {
		t.Errorf("stored code = %+v", stored)
	}
	if strings.Contains(h.log.String(), code) {
		t.Errorf("the code reached the log")
	}

	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	if lr := svc.Link(context.Background(), "u1", "s-u1", wrong); lr.Outcome != LinkOutcomeWrongCode || lr.TriesLeft != LinkCodeTries-1 {
		t.Fatalf("wrong code: %+v", lr)
	}
	if _, linked, _ := h.links.Link("u1"); linked {
		t.Fatal("linked by a wrong code")
	}
	// Another user cannot use Ann's code.
	h.mm.add(User{ID: "u2", Username: "mallory", Email: "m@example.org"})
	if lr := svc.Link(context.Background(), "u2", "s-u2", code); lr.Outcome != LinkOutcomeNoCode {
		t.Fatalf("another user's try: %+v", lr)
	}

	lr = svc.Link(context.Background(), "u1", "s-u1", code)
	if lr.Outcome != LinkOutcomeLinked || lr.Address != "ann.z@example.org" {
		t.Fatalf("right code: %+v", lr)
	}
	b, linked, _ := h.links.Link("u1")
	if !linked || b.ZulipUserID != 10 || b.Method != LinkCodeMethod || !b.LinkedAt.Equal(h.clock.t) || b.LinkedBy != "" {
		t.Fatalf("link = %+v", b)
	}
	if _, ok := h.codes.codes["u1"]; ok {
		t.Error("the used code was kept")
	}

	res = svc.ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.z.addrOf(10) != annNew || h.z.addrOf(11) != "other@example.org" {
		t.Fatalf("after linking: %s %v; Zulip 10 %s", res.Change.State, res.Failure, h.z.addrOf(10))
	}
	if lr := svc.Link(context.Background(), "u1", "s-u1", "other@example.org"); lr.Outcome != LinkOutcomeAlreadyLinked {
		t.Errorf("linking again: %+v", lr)
	}

	if lr := svc.Unlink(context.Background(), "u1", "s-u1"); lr.Outcome != LinkOutcomeUnlinked || lr.Address != annNew {
		t.Errorf("unlink: %+v", lr)
	}
	if _, linked, _ := h.links.Link("u1"); linked || len(h.links.byZulip) != 0 {
		t.Error("link left after unlink")
	}
	if lr := svc.Unlink(context.Background(), "u1", "s-u1"); lr.Outcome != LinkOutcomeNotLinked {
		t.Errorf("second unlink: %+v", lr)
	}
}

func TestLinkCodeTriesAndExpiry(t *testing.T) {
	t.Run("five wrong tries use the code up", func(t *testing.T) {
		h := linkHarness()
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		code := sentCode(t, h)
		wrong := "123456"
		if wrong == code {
			wrong = "654321"
		}
		for i := 1; i <= LinkCodeTries; i++ {
			lr := svc.Link(context.Background(), "u1", "s-u1", wrong)
			if lr.Outcome != LinkOutcomeWrongCode || lr.TriesLeft != LinkCodeTries-i {
				t.Fatalf("try %d: %+v", i, lr)
			}
		}
		if lr := svc.Link(context.Background(), "u1", "s-u1", code); lr.Outcome == LinkOutcomeLinked {
			t.Fatal("the right code worked after five wrong tries")
		}
		if _, linked, _ := h.links.Link("u1"); linked {
			t.Fatal("linked after the tries ran out")
		}
	})
	t.Run("a code expires after ten minutes", func(t *testing.T) {
		h := linkHarness()
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		code := sentCode(t, h)
		h.clock.advance(LinkCodeTTL)
		lr := svc.Link(context.Background(), "u1", "s-u1", code)
		if lr.Outcome != LinkOutcomeCodeExpired {
			t.Fatalf("expired code: %+v", lr)
		}
		if _, linked, _ := h.links.Link("u1"); linked {
			t.Fatal("linked by an expired code")
		}
	})
	t.Run("a code just inside its ten minutes works", func(t *testing.T) {
		h := linkHarness()
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		code := sentCode(t, h)
		h.clock.advance(LinkCodeTTL - time.Second)
		if lr := svc.Link(context.Background(), "u1", "s-u1", code); lr.Outcome != LinkOutcomeLinked {
			t.Fatalf("code at 9:59: %+v", lr)
		}
	})
	t.Run("codes are rationed", func(t *testing.T) {
		h := linkHarness()
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		if lr := svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org"); lr.Outcome != LinkOutcomeTooManyCodes || len(h.z.dms) != 1 {
			t.Fatalf("a second code at once: %+v, %d messages", lr, len(h.z.dms))
		}
		for i := 1; i < MaxLinkCodesPerDay; i++ {
			h.clock.advance(LinkCodeResend)
			if lr := svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org"); lr.Outcome != LinkOutcomeCodeSent {
				t.Fatalf("code %d: %+v", i+1, lr)
			}
		}
		h.clock.advance(LinkCodeResend)
		lr := svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		if lr.Outcome != LinkOutcomeTooManyCodes || len(h.z.dms) != MaxLinkCodesPerDay {
			t.Fatalf("code %d: %+v, %d messages", MaxLinkCodesPerDay+1, lr, len(h.z.dms))
		}
		// Only the last code counts.
		if lr := svc.Link(context.Background(), "u1", "s-u1", sentCode(t, h)); lr.Outcome != LinkOutcomeLinked {
			t.Errorf("the last code: %+v", lr)
		}
	})
}

func TestLinkRefusals(t *testing.T) {
	tests := []struct {
		name   string
		arg    string
		setupZ func(*fakeZulip)
		want   LinkOutcome
		code   Code
	}{
		{name: "no Zulip account", arg: "nobody@example.org", want: LinkOutcomeNoZulipUser},
		{name: "a Zulip bot", arg: "ann.z@example.org", setupZ: func(z *fakeZulip) { z.accounts[10].bot = true }, want: LinkOutcomeNoZulipUser},
		{name: "a deactivated account", arg: "ann.z@example.org", setupZ: func(z *fakeZulip) { z.accounts[10].inactive = true }, want: LinkOutcomeNoZulipUser},
		{name: "not an address", arg: "ann", want: LinkOutcomeFailed, code: CodeAddressInvalid},
		{name: "no pending code", arg: "123456", want: LinkOutcomeNoCode},
		{name: "Zulip down", arg: "ann.z@example.org", setupZ: func(z *fakeZulip) { z.errs["get"] = errDown }, want: LinkOutcomeFailed, code: CodeZulipUnavailable},
		{name: "the message cannot be sent", arg: "ann.z@example.org", setupZ: func(z *fakeZulip) { z.errs["dm"] = errUnauth }, want: LinkOutcomeFailed, code: CodeZulipUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := linkHarness()
			if tc.setupZ != nil {
				tc.setupZ(h.z)
			}
			lr := h.service().Link(context.Background(), "u1", "s-u1", tc.arg)
			if lr.Outcome != tc.want || (tc.code != "" && (lr.Failure == nil || lr.Failure.Code != tc.code)) {
				t.Fatalf("result = %+v (failure %v), want %s %s", lr, lr.Failure, tc.want, tc.code)
			}
			if _, linked, _ := h.links.Link("u1"); linked {
				t.Error("linked")
			}
		})
	}
}

func TestLinkCodeForAnAccountLinkedElsewhere(t *testing.T) {
	h := linkHarness()
	svc := h.service()
	svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
	code := sentCode(t, h)
	_ = h.links.AddLink(Link{UserID: "u9", ZulipUserID: 10})
	lr := svc.Link(context.Background(), "u1", "s-u1", code)
	if lr.Outcome != LinkOutcomeFailed || lr.Failure.Code != CodeZulipLinkedElsewhere {
		t.Fatalf("result = %+v", lr)
	}
	if b, _, _ := h.links.Link("u9"); b.ZulipUserID != 10 {
		t.Error("the other link moved")
	}
}
