package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

const (
	ann    = "ann@example.org"
	annNew = "ann@new.example.org"
)

func annUser() User { return User{ID: "u1", Username: "ann", Email: ann} }

var (
	errDown   = &zulip.UnavailableError{Op: "PATCH /api/v1/users/{email}", Err: errors.New("connection refused")}
	err500    = &zulip.UnavailableError{Op: "PATCH /api/v1/users/{email}", Status: 500, Err: errors.New("internal server error")}
	errUnauth = &zulip.APIError{Status: 401, Code: "UNAUTHORIZED", Msg: "Invalid API key", Reason: zulip.ReasonUnauthorized}
	errNoPerm = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "User not authorized to change user emails", Reason: zulip.ReasonCannotChangeEmails}
	errInsuff = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "Insufficient permission", Reason: zulip.ReasonInsufficientPermission}
	errTaken  = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "New email value error: Already has an account.", Reason: zulip.ReasonEmailInUse}
	errLocal  = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "Utilisateur inconnu", Reason: zulip.ReasonBadRequest}
	err405    = &zulip.APIError{Status: 405, Msg: "Method Not Allowed", Reason: zulip.ReasonMethodNotAllowed}
	errRate   = &zulip.RateLimitError{Op: "PATCH", RetryAfter: 28700 * time.Millisecond}
)

func TestChangeEmail(t *testing.T) {
	tests := []struct {
		name    string
		sync    bool
		input   string
		user    User
		others  []User
		setupMM func(*fakeMattermost)
		zulip   []string // addresses in Zulip
		setupZ  func(*fakeZulip)
		noZulip bool

		wantState     State
		wantCode      Code
		wantMMEmail   string
		wantZulipHas  string // address Zulip must have for Ann's account ("" to skip)
		wantMM, wantZ SystemStatus
		wantReport    []string
		wantPatches   int  // -1 to skip
		noRecord      bool // refused while validating: nothing is recorded
	}{
		{
			name: "happy path changes both", sync: true, input: "  Ann@New.Example.org ",
			zulip:     []string{ann},
			wantState: StateDone, wantMMEmail: annNew, wantZulipHas: annNew, wantMM: StatusChanged, wantZ: StatusChanged,
			wantReport: []string{"`ann@new.example.org` in Mattermost and in Zulip", "it was `ann@example.org`"}, wantPatches: 2,
		},
		{
			name: "sync off changes Mattermost only", sync: false, input: annNew, noZulip: true,
			wantState: StateDone, wantMMEmail: annNew, wantMM: StatusChanged, wantZ: StatusDisabled,
			wantReport: []string{"Zulip sync is turned off"}, wantPatches: -1,
		},
		{
			name: "empty address", sync: true, input: "  ", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressMissing, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"Please give the new address"}, wantPatches: 0, noRecord: true,
		},
		{
			name: "display name refused", sync: true, input: "Ann <ann@new.example.org>", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"not a valid email address", "Nothing was changed"}, wantPatches: 0, noRecord: true,
		},
		{
			name: "angle brackets refused", sync: true, input: "<ann@new.example.org>", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantPatches: 0, noRecord: true,
		},
		{
			name: "markdown injection is shown inert", sync: true, input: "[click](http://evil.example)@x.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantReport: []string{"`[click](http://evil.example)@x.org`"}, wantPatches: 0, noRecord: true,
		},
		{
			name: "server rules refuse", sync: true, input: "invalid@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantPatches: 0, noRecord: true,
		},
		{
			name: "too long", sync: true, input: strings.Repeat("a", 130) + "@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressTooLong, wantMMEmail: ann, wantPatches: 0, noRecord: true,
		},
		{
			name: "same address other case", sync: true, input: "ANN@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeSameAddress, wantMMEmail: ann, wantReport: []string{"already is `ann@example.org`"}, wantPatches: 0, noRecord: true,
		},
		{
			name: "SSO user refused", sync: true, input: annNew, user: User{ID: "u1", Email: ann, AuthService: "gitlab"}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeManagedBySSO, wantMMEmail: ann, wantReport: []string{"signs in with GitLab"}, wantPatches: 0, noRecord: true,
		},
		{
			name: "bot refused", sync: true, input: annNew, user: User{ID: "u1", Email: ann, IsBot: true}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeBotAccount, wantMMEmail: ann, wantPatches: 0, noRecord: true,
		},
		{
			name: "taken in Mattermost", sync: true, input: annNew, others: []User{{ID: "u2", Email: annNew}}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeTakenInMattermost, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"Another Mattermost account already uses `ann@new.example.org`"}, wantPatches: 0,
		},
		{
			name: "taken in Zulip", sync: true, input: annNew, zulip: []string{ann, annNew},
			wantState: StateRefused, wantCode: CodeTakenInZulip, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"Another Zulip account"}, wantPatches: 0,
		},
		{
			name: "sync on but not configured", sync: true, input: annNew, noZulip: true,
			wantState: StateRefused, wantCode: CodeZulipNotConfigured, wantMMEmail: ann, wantReport: []string{"not set up", "ask your system administrator"}, wantPatches: -1, noRecord: true,
		},
		{
			name: "zulip too old", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.level, z.version = 312, "9.4" },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"Zulip 10.0 or later"}, wantPatches: 0,
		},
		{
			name: "zulip feature level unknown", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.level = 0 },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: 0,
		},
		{
			name: "zulip down before anything", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["settings"] = errDown },
			wantState: StateRefused, wantCode: CodeZulipUnavailable, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"could not be reached", "Nothing was changed"}, wantPatches: 0,
		},
		{
			name: "wrong api key", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["get"] = errUnauth },
			wantState: StateRefused, wantCode: CodeZulipUnauthorized, wantMMEmail: ann, wantReport: []string{"credentials", "ask your system administrator"}, wantPatches: 0,
		},
		{
			name: "user missing in Zulip", sync: true, input: annNew, zulip: []string{"bob@example.org"},
			wantState: StateRefused, wantCode: CodeZulipUserNotFound, wantMMEmail: ann, wantReport: []string{"Zulip has no account under your current address `ann@example.org`"}, wantPatches: 0,
		},
		{
			name: "localised no such user still maps by context", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["get:"+ann] = errLocal },
			wantState: StateRefused, wantCode: CodeZulipUserNotFound, wantMMEmail: ann, wantPatches: 0,
		},
		{
			name: "bot lacks permission (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errNoPerm} },
			wantState: StateRefused, wantCode: CodeZulipNoPermission, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"lacks Zulip's permission"}, wantPatches: 1,
		},
		{
			name: "bot not admin (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errInsuff} },
			wantState: StateRefused, wantCode: CodeZulipBotNotAdmin, wantMMEmail: ann, wantPatches: 1,
		},
		{
			name: "method not allowed (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{err405} },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: 1,
		},
		{
			name: "new_email ignored (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{zulip.ErrEmailIgnored} },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: 1,
		},
		{
			name: "rate limited before anything", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errRate} },
			wantState: StateRefused, wantCode: CodeZulipRateLimited, wantMMEmail: ann, wantReport: []string{"Try again in 29 seconds"}, wantPatches: 1,
		},
		{
			name: "domain not allowed by Mattermost", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.allowDomains = []string{"example.org"} },
			wantState: StateRefused, wantCode: CodeDomainNotAllowed, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"certain domains"}, wantPatches: 1,
		},
		{
			name: "verification required holds everything", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.verify = true },
			wantState: StatePendingVerification, wantMMEmail: ann, wantZulipHas: ann, wantMM: StatusPending, wantZ: StatusUntouched,
			wantReport: []string{"confirmation link to `ann@new.example.org`", "Zulip was not changed: it still has `ann@example.org`"}, wantPatches: 1,
		},
		{
			name: "update accepted but email kept", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.keepEmail = true },
			wantState: StateMattermostNotChanged, wantCode: CodeMattermostUnchanged, wantMMEmail: ann, wantZulipHas: ann, wantReport: []string{"did not change"}, wantPatches: 1,
		},
		{
			name: "mattermost update fails", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.updateErr = errors.New("db") },
			wantState: StateRefused, wantCode: CodeMattermostFailed, wantMMEmail: ann, wantZulipHas: ann, wantPatches: 1,
		},
		{
			name: "zulip refuses the real patch: Mattermost rolled back", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errTaken} },
			wantState: StateRolledBack, wantCode: CodeTakenInZulip, wantMMEmail: ann, wantZulipHas: ann, wantMM: StatusRolledBack, wantZ: StatusUntouched,
			wantReport: []string{"put back to `ann@example.org`", "Another Zulip account"}, wantPatches: 2,
		},
		{
			name: "zulip 500 at the patch: rolled back, confirmed untouched", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, err500} },
			wantState: StateRolledBack, wantCode: CodeZulipUnavailable, wantMMEmail: ann, wantZulipHas: ann, wantMM: StatusRolledBack, wantZ: StatusUntouched, wantPatches: 2,
		},
		{
			name: "zulip answer lost after applying: counted as done", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, err500}; z.applyLost = true },
			wantState: StateDone, wantMMEmail: annNew, wantZulipHas: annNew, wantMM: StatusChanged, wantZ: StatusChanged, wantPatches: 2,
		},
		{
			name: "zulip unreachable after patch: rolled back, flagged", sync: true, input: annNew, zulip: []string{ann},
			setupZ:    func(z *fakeZulip) { z.patchErrs = []error{nil, errDown}; z.downAfter = 2 },
			wantState: StateNeedsAttention, wantCode: CodeZulipUnavailable, wantMMEmail: ann, wantMM: StatusRolledBack, wantZ: StatusUnknown,
			wantReport: []string{"may still have made the change"}, wantPatches: 2,
		},
		{
			name: "rollback fails: flagged loudly", sync: true, input: annNew, zulip: []string{ann},
			setupMM: func(m *fakeMattermost) { m.failRollback = true }, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errTaken} },
			wantState: StateNeedsAttention, wantCode: CodeTakenInZulip, wantMMEmail: annNew, wantZulipHas: ann, wantMM: StatusRollbackFailed,
			wantReport: []string{"Your accounts now differ", "Mattermost has `ann@new.example.org` but Zulip still has `ann@example.org`"}, wantPatches: 2,
		},
		{
			name: "zulip already has the new address for this user", sync: true, input: annNew, zulip: []string{ann},
			setupZ:    func(z *fakeZulip) { z.users[annNew] = z.users[ann] },
			wantState: StateDone, wantMMEmail: annNew, wantMM: StatusChanged, wantZ: StatusChanged, wantPatches: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			if user.ID == "" {
				user = annUser()
			}
			mm := newFakeMattermost(append([]User{user}, tc.others...)...)
			if tc.setupMM != nil {
				tc.setupMM(mm)
			}
			z := newFakeZulip(tc.zulip...)
			if tc.setupZ != nil {
				tc.setupZ(z)
			}
			var zc Zulip = z
			if tc.noZulip {
				zc = nil
			}
			rec := &memRecorder{}
			svc := NewService(mm, zc, Options{SyncZulip: tc.sync, Recorder: rec, Locker: &memLocker{held: map[string]bool{}}, Logger: &recLogger{}})

			res := svc.ChangeEmail(context.Background(), Request{UserID: user.ID, NewEmail: tc.input})

			if res.Change.State != tc.wantState {
				t.Errorf("state = %s, want %s (failure %v)", res.Change.State, tc.wantState, res.Failure)
			}
			gotCode := Code("")
			if res.Failure != nil {
				gotCode = res.Failure.Code
			}
			if gotCode != tc.wantCode {
				t.Errorf("code = %q, want %q (%v)", gotCode, tc.wantCode, res.Failure)
			}
			if got := mm.users[user.ID].Email; got != tc.wantMMEmail {
				t.Errorf("Mattermost email = %s, want %s", got, tc.wantMMEmail)
			}
			if tc.wantZulipHas != "" && !z.has(tc.wantZulipHas) {
				t.Errorf("Zulip lacks %s; has %v", tc.wantZulipHas, z.users)
			}
			if tc.wantMM != "" && res.Change.Mattermost != tc.wantMM {
				t.Errorf("Mattermost status = %s, want %s", res.Change.Mattermost, tc.wantMM)
			}
			if tc.wantZ != "" && res.Change.Zulip != tc.wantZ {
				t.Errorf("Zulip status = %s, want %s", res.Change.Zulip, tc.wantZ)
			}
			if tc.wantPatches >= 0 && len(z.patches) != tc.wantPatches {
				t.Errorf("Zulip PATCH calls = %v, want %d", z.patches, tc.wantPatches)
			}
			report := res.Report()
			for _, want := range tc.wantReport {
				if !strings.Contains(report, want) {
					t.Errorf("report lacks %q:\n%s", want, report)
				}
			}
			last, saved := rec.last()
			if saved == tc.noRecord {
				t.Errorf("record saved = %v, want %v", saved, !tc.noRecord)
			}
			if saved && last.State != res.Change.State {
				t.Errorf("last record state = %s, result state = %s", last.State, res.Change.State)
			}
		})
	}
}

func TestProbeUsesZulipsExactAddress(t *testing.T) {
	mm := newFakeMattermost(annUser())
	z := newFakeZulip(ann)
	svc := NewService(mm, z, Options{SyncZulip: true})
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	if res.Change.State != StateDone {
		t.Fatalf("state %s (%v)", res.Change.State, res.Failure)
	}
	want := []string{ann + "->" + ann, ann + "->" + annNew}
	if strings.Join(z.patches, ",") != strings.Join(want, ",") {
		t.Errorf("patches = %v, want %v", z.patches, want)
	}
}

func TestBusyUserIsRefused(t *testing.T) {
	mm := newFakeMattermost(annUser())
	locker := &memLocker{held: map[string]bool{"u1": true}}
	svc := NewService(mm, newFakeZulip(ann), Options{SyncZulip: true, Locker: locker})
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	if res.Failure == nil || res.Failure.Code != CodeBusy {
		t.Fatalf("failure = %v, want %s", res.Failure, CodeBusy)
	}
	if mm.users["u1"].Email != ann || len(mm.updates) != 0 {
		t.Errorf("Mattermost was touched: %v", mm.updates)
	}
}

func TestLockIsReleased(t *testing.T) {
	mm := newFakeMattermost(annUser())
	locker := &memLocker{held: map[string]bool{}}
	svc := NewService(mm, newFakeZulip(ann), Options{SyncZulip: true, Locker: locker})
	svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	if locker.held["u1"] {
		t.Error("lock still held after the change")
	}
}

func TestNoRecordNoChange(t *testing.T) {
	mm := newFakeMattermost(annUser())
	z := newFakeZulip(ann)
	svc := NewService(mm, z, Options{SyncZulip: true, Recorder: &memRecorder{err: errors.New("kv down")}})
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	if res.Failure == nil || res.Failure.Code != CodeInternal {
		t.Fatalf("failure = %v, want internal", res.Failure)
	}
	if len(mm.updates) != 0 || len(z.patches) != 0 {
		t.Errorf("changed without a record: mm %v zulip %v", mm.updates, z.patches)
	}
}

func TestRecordStepsInOrder(t *testing.T) {
	mm := newFakeMattermost(annUser())
	rec := &memRecorder{}
	svc := NewService(mm, newFakeZulip(ann), Options{SyncZulip: true, Recorder: rec})
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	var names []string
	for _, s := range res.Change.Steps {
		names = append(names, s.Name)
	}
	want := []string{StepValidate, StepCheckMattermost, StepCheckZulip, StepApplyMattermost, StepSyncZulip}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("steps = %v, want %v", names, want)
	}
	last, _ := rec.last()
	if last.ID == "" || last.ID != res.Change.ID || last.OldEmail != ann || last.NewEmail != annNew {
		t.Errorf("record = %+v", last)
	}
}

func TestAdminCausesGoToTheLogNotTheReport(t *testing.T) {
	mm := newFakeMattermost(annUser())
	z := newFakeZulip(ann)
	z.errs["get"] = errUnauth
	log := &recLogger{}
	svc := NewService(mm, z, Options{SyncZulip: true, Logger: log})
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: annNew})
	if strings.Contains(res.Report(), "Invalid API key") {
		t.Errorf("report leaks Zulip's message: %s", res.Report())
	}
	joined := strings.Join(log.lines, "\n")
	if !strings.Contains(joined, "Invalid API key") || !strings.HasPrefix(joined, "error") {
		t.Errorf("log lacks the cause at error level:\n%s", joined)
	}
}
