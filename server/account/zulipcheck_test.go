package account

import (
	"context"
	"reflect"
	"testing"
)

// The check's findings and their facts; reply's tests word them.

func TestCheckZulip(t *testing.T) {
	admin := User{ID: "boss", Username: "boss", Email: "boss@example.org"}
	for _, tc := range []struct {
		name    string
		setup   func(h *harness)
		noZulip bool
		wantOK  int       // lines passed before the first failure
		want    CheckLine // the last line
	}{
		{name: "healthy", wantOK: 5, want: CheckLine{OK: true, Finding: FindingMayChangeEmails}},
		{name: "sync off", setup: func(h *harness) { h.opts.SyncZulip = false }, want: CheckLine{Finding: FindingSyncOff}},
		{name: "settings incomplete", noZulip: true, want: CheckLine{Finding: FindingSettingsBroken, Detail: "the bot API key is empty"}},
		{name: "down", setup: func(h *harness) { h.z.errs["settings"] = errDown }, wantOK: 1, want: CheckLine{Finding: FindingUnreachable}},
		{name: "redirect", setup: func(h *harness) { h.z.errs["settings"] = errMoved }, wantOK: 1, want: CheckLine{Finding: FindingRedirect, Detail: "http://zulip.example.org"}},
		{name: "too old", setup: func(h *harness) { h.z.level = 312 }, wantOK: 1, want: CheckLine{Finding: FindingTooOld, Version: "10.2", Level: 312}},
		{name: "wrong key", setup: func(h *harness) { h.z.errs["me"] = errUnauth }, wantOK: 2, want: CheckLine{Finding: FindingBadCredentials}},
		{name: "bot only a member", setup: func(h *harness) { h.z.botRole = 400 }, wantOK: 3, want: CheckLine{Finding: FindingRoleTooLow, Role: 400}},
		{name: "no permission", setup: func(h *harness) { h.z.patchErrs = []error{errNoPerm} }, wantOK: 4, want: CheckLine{Finding: FindingNoEmailPermission, Detail: "bot@zulip.example.org"}},
		{name: "not an administrator after all", setup: func(h *harness) { h.z.patchErrs = []error{errInsuff} }, wantOK: 4, want: CheckLine{Finding: FindingNotUserAdmin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser(), admin}, ann)
			h.mm.admins["boss"] = true
			if tc.setup != nil {
				tc.setup(h)
			}
			svc := h.service()
			if tc.noZulip {
				o := h.opts
				o.Now = h.clock.now
				svc = newTestService(h.deps(nil), o)
			}
			c := svc.CheckZulip(context.Background(), "boss", "s-boss", "bot@zulip.example.org", "the bot API key is empty")
			if c.Failure != nil || len(c.Lines) == 0 {
				t.Fatalf("check: %+v", c)
			}
			passed := 0
			for _, l := range c.Lines {
				if l.OK {
					passed++
				}
			}
			last := c.Lines[len(c.Lines)-1]
			if passed != tc.wantOK || !reflect.DeepEqual(last, tc.want) {
				t.Errorf("lines %+v; want %d passed and the last %+v", c.Lines, tc.wantOK, tc.want)
			}
			if allOK := passed == len(c.Lines); allOK != tc.want.OK {
				t.Errorf("all passed = %v: %+v", allOK, c.Lines)
			}
			if ann := h.z.addrOf(10); ann != "ann@example.org" {
				t.Errorf("the check changed a user: %s", ann)
			}
		})
	}
	t.Run("admins only", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		if c := h.service().CheckZulip(context.Background(), "u1", "s-u1", "", ""); c.Failure == nil || c.Failure.Code != CodeAdminOnly || h.z.calls != 0 {
			t.Errorf("non-admin: %+v, %d Zulip calls", c, h.z.calls)
		}
	})
}
