package account

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

const (
	ann    = "ann@example.org"
	annNew = "ann@new.example.org"
	// probe is the permission check: the bot changes its own address to itself.
	probe = "1->bot@zulip.example.org"
)

func annUser() User { return User{ID: "u1", Username: "ann", Email: ann, EmailVerified: true} }

// req is Ann's request from her own plain session.
func req(newEmail string) Request {
	return Request{UserID: "u1", SessionID: "s-u1", NewEmail: newEmail}
}

// harness wires a Service to fakes. Ann (u1) exists in both systems; her
// Zulip account is 10.
type harness struct {
	mm      *fakeMattermost
	z       *fakeZulip
	rec     *memRecorder
	links   *memLinks
	codes   *memLinkCodes
	usage   *memUsage
	log     *recLogger
	notes   *memNotifier
	clock   *clock
	locker  *memLocker
	facts   *ZulipFacts
	auditor Auditor
	offers  *memOffers
	// migrations keeps the domain migrations.
	migrations *memMigrations
	opts       Settings
}

func newHarness(users []User, zulipAddrs ...string) *harness {
	h := &harness{
		mm: newFakeMattermost(users...), z: newFakeZulip(zulipAddrs...), rec: &memRecorder{}, links: newMemLinks(),
		codes: &memLinkCodes{codes: map[string]LinkCode{}}, usage: &memUsage{usage: map[string]UserUsage{}}, log: &recLogger{}, notes: &memNotifier{},
		clock: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}, locker: &memLocker{held: map[string]bool{}},
	}
	h.opts = Settings{SyncZulip: true, MaxChangesPerDay: 5}
	h.facts = NewZulipFacts(0)
	h.auditor = nopAuditor{}
	h.offers = &memOffers{}
	h.migrations = &memMigrations{}
	return h
}

func (h *harness) service() *Service {
	o := h.opts
	o.Now = h.clock.now
	return newTestService(h.deps(h.z), o)
}

var (
	errDown     = &zulip.UnavailableError{Op: "PATCH /api/v1/users/{email}", Err: errors.New("connection refused")}
	err500      = &zulip.UnavailableError{Op: "PATCH /api/v1/users/{email}", Status: 500, Err: errors.New("internal server error")}
	errUnauth   = &zulip.APIError{Status: 401, Code: "UNAUTHORIZED", Msg: "Invalid API key", Reason: zulip.ReasonUnauthorized}
	errNoPerm   = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "User not authorized to change user emails", Reason: zulip.ReasonCannotChangeEmails}
	errInsuff   = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "Insufficient permission", Reason: zulip.ReasonInsufficientPermission}
	errTaken    = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "New email value error: Already has an account.", Reason: zulip.ReasonEmailInUse}
	errLocal    = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "Utilisateur inconnu", Reason: zulip.ReasonBadRequest}
	err405      = &zulip.APIError{Status: 405, Msg: "Method Not Allowed", Reason: zulip.ReasonMethodNotAllowed}
	errRate     = &zulip.RateLimitError{Op: "PATCH", RetryAfter: 28700 * time.Millisecond}
	errRateLong = &zulip.RateLimitError{Op: "GET", RetryAfter: 95500 * time.Millisecond}
	errMoved    = &zulip.RedirectError{Op: "PATCH /api/v1/users/{id}", Status: 301, TargetScheme: "http", TargetHost: "zulip.example.org"}
)

func TestChangeEmail(t *testing.T) {
	tests := []struct {
		name    string
		sync    bool
		input   string
		user    User
		others  []User
		setupMM func(*fakeMattermost)
		zulip   []string // addresses in Zulip (Ann's account first: id 10)
		setupZ  func(*fakeZulip)
		linked  bool // Ann is linked to Zulip account 10 before the change
		noZulip bool

		wantState     State
		wantCode      Code
		wantMMEmail   string
		wantZulip     string // Ann's Zulip account's address at the end ("" to skip)
		wantMM, wantZ SystemStatus
		wantDetail    string        // the failure's fact its text names
		wantPatches   []string      // nil to skip; empty for none
		noRecord      bool          // refused before anything changed: nothing is stored
		wantNext      time.Duration // for a change left open: when the job tries next, from now
	}{
		{
			name: "happy path changes both and links by verified email", sync: true, input: "  Ann@New.Example.org ",
			zulip:     []string{ann},
			wantState: StateDone, wantMMEmail: annNew, wantZulip: annNew, wantMM: StatusChanged, wantZ: StatusChanged,
			wantPatches: []string{probe, "10->" + annNew},
		},
		{
			name: "sync off changes Mattermost only", sync: false, input: annNew, noZulip: true,
			wantState: StateDone, wantMMEmail: annNew, wantMM: StatusChanged, wantZ: StatusDisabled,
		},
		{
			name: "empty address", sync: true, input: "  ", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressMissing, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "display name refused", sync: true, input: "Ann <ann@new.example.org>", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "markdown injection is shown inert", sync: true, input: "[click](http://evil.example)@x.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "server rules refuse", sync: true, input: "invalid@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "zulip's rules refuse a one-letter top-level domain before anything", sync: true, input: "ann@new.example.o", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "zulip's rules refuse a right-to-left override before anything", sync: true, input: "ann\u202e@new.example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressInvalid, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "too long", sync: true, input: strings.Repeat("a", 130) + "@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeAddressTooLong, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "same address other case", sync: true, input: "ANN@example.org", zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeSameAddress, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "SSO user refused", sync: true, input: annNew, user: User{ID: "u1", Email: ann, AuthService: "gitlab", EmailVerified: true}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeManagedBySSO, wantDetail: "gitlab", wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "bot refused", sync: true, input: annNew, user: User{ID: "u1", Email: ann, IsBot: true}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeBotAccount, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "taken in Mattermost", sync: true, input: annNew, others: []User{{ID: "u2", Email: annNew}}, zulip: []string{ann},
			wantState: StateRefused, wantCode: CodeTakenInMattermost, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "taken in Zulip", sync: true, input: annNew, zulip: []string{ann, annNew},
			wantState: StateRefused, wantCode: CodeTakenInZulip, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{probe}, noRecord: true,
		},
		{
			name: "sync on but not configured", sync: true, input: annNew, noZulip: true,
			wantState: StateRefused, wantCode: CodeZulipNotConfigured, wantMMEmail: ann, noRecord: true,
		},
		{
			name: "zulip too old", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.level, z.version = 312, "9.4" },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "zulip feature level unknown", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.level = 0 },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "zulip down before anything", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["settings"] = errDown },
			wantState: StateWaitingForZulip, wantCode: CodeZulipUnavailable, wantMMEmail: ann, wantZulip: ann, wantMM: StatusUntouched, wantZ: StatusUntouched, wantNext: 30 * time.Second,
			wantPatches: []string{},
		},
		{
			name: "wrong api key", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["get"] = errUnauth },
			wantState: StateRefused, wantCode: CodeZulipUnauthorized, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "no Zulip account under the email: not linked, told how to link", sync: true, input: annNew, zulip: []string{"bob@example.org"},
			wantState: StateRefused, wantCode: CodeNotLinked, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "localised no such user still maps by context", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["get:"+ann] = errLocal },
			wantState: StateRefused, wantCode: CodeNotLinked, wantMMEmail: ann, wantPatches: []string{}, noRecord: true,
		},
		{
			name: "bot lacks permission (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errNoPerm} },
			wantState: StateRefused, wantCode: CodeZulipNoPermission, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{probe}, noRecord: true,
		},
		{
			name: "bot not admin (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errInsuff} },
			wantState: StateRefused, wantCode: CodeZulipBotNotAdmin, wantMMEmail: ann, wantPatches: []string{probe}, noRecord: true,
		},
		{
			name: "method not allowed (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{err405} },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: []string{probe}, noRecord: true,
		},
		{
			name: "new_email ignored (probe)", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{zulip.ErrEmailIgnored} },
			wantState: StateRefused, wantCode: CodeZulipTooOld, wantMMEmail: ann, wantPatches: []string{probe}, noRecord: true,
		},
		{
			name: "redirect at the probe is a configuration problem", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errMoved} },
			wantState: StateRefused, wantCode: CodeZulipRedirect, wantMMEmail: ann, wantZulip: ann, noRecord: true,
		},
		{
			name: "rate limited before anything", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{errRate} },
			wantState: StateWaitingForZulip, wantCode: CodeZulipRateLimited, wantMMEmail: ann, wantZulip: ann, wantMM: StatusUntouched, wantZ: StatusUntouched, wantNext: 30 * time.Second,
			wantPatches: []string{probe},
		},
		{
			name: "a long Retry-After is honoured", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.errs["settings"] = errRateLong },
			wantState: StateWaitingForZulip, wantCode: CodeZulipRateLimited, wantMMEmail: ann, wantZulip: ann, wantNext: 95500 * time.Millisecond, wantPatches: []string{},
		},
		{
			name: "domain not allowed by Mattermost", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.allowDomains = []string{"example.org"} },
			wantState: StateFailed, wantCode: CodeDomainNotAllowed, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{probe},
		},
		{
			name: "verification required holds everything", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.verify = true },
			wantState: StatePendingVerification, wantMMEmail: ann, wantZulip: ann, wantMM: StatusPending, wantZ: StatusUntouched,
			wantPatches: []string{probe},
		},
		{
			name: "update accepted but email kept", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.keepEmail = true },
			wantState: StateFailed, wantCode: CodeMattermostUnchanged, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{probe},
		},
		{
			name: "mattermost update fails", sync: true, input: annNew, zulip: []string{ann}, setupMM: func(m *fakeMattermost) { m.updateErr = errors.New("db") },
			wantState: StateFailed, wantCode: CodeMattermostFailed, wantMMEmail: ann, wantZulip: ann, wantPatches: []string{probe},
		},
		{
			name: "zulip refuses the real patch: Mattermost rolled back", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errTaken} },
			wantState: StateRolledBack, wantCode: CodeTakenInZulip, wantMMEmail: ann, wantZulip: ann, wantMM: StatusRolledBack, wantZ: StatusUntouched,
			wantPatches: []string{probe, "10->" + annNew},
		},
		{
			name: "rate limited at the real patch: Mattermost kept, Zulip retried later", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errRate} },
			wantState: StateMattermostChanged, wantCode: CodeZulipRateLimited, wantMMEmail: annNew, wantZulip: ann, wantMM: StatusChanged, wantZ: StatusUntouched, wantNext: 30 * time.Second,
			wantPatches: []string{probe, "10->" + annNew},
		},
		{
			name: "redirect at the real patch: a clear answer, rolled back", sync: true, input: annNew, zulip: []string{ann}, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errMoved} },
			wantState: StateRolledBack, wantCode: CodeZulipRedirect, wantMMEmail: ann, wantZulip: ann, wantMM: StatusRolledBack, wantZ: StatusUntouched, wantPatches: []string{probe, "10->" + annNew},
		},
		{
			name: "rollback fails: flagged loudly", sync: true, input: annNew, zulip: []string{ann},
			setupMM: func(m *fakeMattermost) { m.failRollback = true }, setupZ: func(z *fakeZulip) { z.patchErrs = []error{nil, errTaken} },
			wantState: StateNeedsAttention, wantCode: CodeTakenInZulip, wantMMEmail: annNew, wantZulip: ann, wantMM: StatusRollbackFailed,
			wantPatches: []string{probe, "10->" + annNew},
		},
		{
			name: "zulip already has the new address for the linked account", sync: true, input: annNew, zulip: []string{annNew}, linked: true,
			wantState: StateDone, wantMMEmail: annNew, wantZulip: annNew, wantMM: StatusChanged, wantZ: StatusChanged, wantPatches: []string{probe},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			if user.ID == "" {
				user = annUser()
			}
			h := newHarness(append([]User{user}, tc.others...), tc.zulip...)
			h.opts.SyncZulip = tc.sync
			if tc.linked {
				h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
			}
			if tc.setupMM != nil {
				tc.setupMM(h.mm)
			}
			if tc.setupZ != nil {
				tc.setupZ(h.z)
			}
			svc := h.service()
			if tc.noZulip {
				o := h.opts
				o.Now = h.clock.now
				svc = newTestService(h.deps(nil), o)
			}

			res := svc.ChangeEmail(context.Background(), Request{UserID: user.ID, SessionID: "s-" + user.ID, NewEmail: tc.input})

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
			if got := h.mm.users[user.ID].Email; got != tc.wantMMEmail {
				t.Errorf("Mattermost email = %s, want %s", got, tc.wantMMEmail)
			}
			if tc.wantZulip != "" {
				if got := h.z.addrOf(10); got != tc.wantZulip {
					t.Errorf("Zulip account 10 has %q, want %q", got, tc.wantZulip)
				}
			}
			if tc.wantMM != "" && res.Change.Mattermost != tc.wantMM {
				t.Errorf("Mattermost status = %s, want %s", res.Change.Mattermost, tc.wantMM)
			}
			if tc.wantZ != "" && res.Change.Zulip != tc.wantZ {
				t.Errorf("Zulip status = %s, want %s", res.Change.Zulip, tc.wantZ)
			}
			if tc.wantPatches != nil && strings.Join(h.z.patches, ",") != strings.Join(tc.wantPatches, ",") {
				t.Errorf("Zulip PATCH calls = %v, want %v", h.z.patches, tc.wantPatches)
			}
			// The reply is worded from these facts: reply's TestEmailReplies
			// has a case for each of these cases.
			if res.Input != strings.TrimSpace(tc.input) || (res.Change.OldEmail != "" && res.Change.OldEmail != user.Email) || (tc.wantDetail != "" && res.Failure.Detail != tc.wantDetail) {
				t.Errorf("input %q, old email %q, failure %+v", res.Input, res.Change.OldEmail, res.Failure)
			}
			last, saved := h.rec.last()
			if saved == tc.noRecord {
				t.Fatalf("record saved = %v, want %v", saved, !tc.noRecord)
			}
			if tc.wantState.Open() && tc.wantCode != "" {
				if res.Change.NextAttemptAt == nil || !res.Change.NextAttemptAt.Equal(h.clock.now().Add(tc.wantNext)) || res.Change.Attempts != 1 {
					t.Errorf("next attempt = %v after %d attempts, want %s from now after 1", res.Change.NextAttemptAt, res.Change.Attempts, tc.wantNext)
				}
				if res.Change.GiveUpAt == nil || !res.Change.GiveUpAt.Equal(res.Change.CreatedAt.Add(DefaultRetryFor)) {
					t.Errorf("give up at = %v, want %s after the request", res.Change.GiveUpAt, DefaultRetryFor)
				}
				if le := res.Change.LastError; le == nil || le.Code != tc.wantCode || le.Text != "" {
					t.Errorf("last error = %+v, want code %s and no text (texts are worded when shown)", le, tc.wantCode)
				}
			}
			if saved {
				assertRecord(t, last, res.Change)
				if tc.sync && last.ZulipUserID != 10 && last.State != StateWaitingForZulip {
					t.Errorf("record's Zulip user = %d, want 10", last.ZulipUserID)
				}
			}
		})
	}
}

// assertRecord checks that the last stored record is the whole final
// change, and that it describes Ann's request.
func assertRecord(t *testing.T, got, want Change) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored record differs from the final change:\n got %+v\nwant %+v", got, want)
	}
	if got.ID == "" || got.UserID != "u1" || got.OldEmail != ann || got.NewEmail != annNew || got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("record = %+v", got)
	}
	if !got.State.Open() && got.State != StateDone && got.Code == "" {
		t.Errorf("record of a stopped change has no code: %+v", got)
	}
	if got.State.Open() && got.Code != "" {
		t.Errorf("record of an open change has a final code: %+v", got)
	}
}

func TestBusyUserIsRefused(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.locker.held["u1"] = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeBusy {
		t.Fatalf("failure = %v, want %s", res.Failure, CodeBusy)
	}
	if h.mm.users["u1"].Email != ann || len(h.mm.updates) != 0 || len(h.z.patches) != 0 {
		t.Errorf("something was touched: mm %v zulip %v", h.mm.updates, h.z.patches)
	}
}

func TestUserIsReadAfterTheLockAndLockIsReleased(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	readsAtLock := -1
	h.locker.onLock = func() { readsAtLock = h.mm.gets }
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone {
		t.Fatalf("state %s (%v)", res.Change.State, res.Failure)
	}
	if readsAtLock != 0 {
		t.Errorf("the user was read %d times before the lock was taken", readsAtLock)
	}
	if h.locker.held["u1"] {
		t.Error("lock still held after the change")
	}
}

func TestNoRecordNoChange(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.rec.err = errors.New("kv down")
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeInternal {
		t.Fatalf("failure = %v, want internal", res.Failure)
	}
	if len(h.mm.updates) != 0 || h.z.addrOf(10) != ann {
		t.Errorf("changed without a record: mm %v zulip %s", h.mm.updates, h.z.addrOf(10))
	}
	if res.Change.State != StateRefused && res.Change.State != StateFailed { // the reply says nothing was changed
		t.Errorf("state %s", res.Change.State)
	}
}

func TestRecordIsWrittenBeforeMattermostChanges(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if len(h.rec.saved) < 2 {
		t.Fatalf("saved %d versions", len(h.rec.saved))
	}
	first := h.rec.saved[0]
	if first.State != StateStarted || first.Mattermost != StatusUntouched || first.ZulipUserID != 10 || first.ID != res.Change.ID {
		t.Errorf("write-ahead record = %+v", first)
	}
	var names []string
	for _, s := range res.Change.Steps {
		names = append(names, s.Name)
	}
	want := []string{StepValidate, StepCheckMattermost, StepCheckZulip, StepApplyMattermost, StepSyncZulip}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("steps = %v, want %v", names, want)
	}
}

func TestRefusalsAreLoggedNotStored(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "u2", Email: annNew}}, ann)
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeTakenInMattermost {
		t.Fatalf("failure = %v", res.Failure)
	}
	if len(h.rec.saved) != 0 {
		t.Errorf("a refusal was stored: %+v", h.rec.saved)
	}
	if !strings.Contains(h.log.String(), "refused") || !strings.Contains(h.log.String(), res.Change.ID) || !strings.Contains(h.log.String(), string(CodeTakenInMattermost)) {
		t.Errorf("log lacks the refusal:\n%s", h.log)
	}
}

func TestAdminCausesGoToTheLogNotTheReport(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.errs["get"] = errUnauth
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	// The reply is worded from the code alone, never from Zulip's message,
	// and carries the change's reference (reply's TestEmailReplies).
	if res.Change.State != StateRefused || res.Failure == nil || res.Failure.Code != CodeZulipUnauthorized || !res.Failure.Code.ForAdmin() || res.Change.ID == "" {
		t.Errorf("result %s %v, ID %q", res.Change.State, res.Failure, res.Change.ID)
	}
	if !strings.Contains(h.log.String(), "Invalid API key") || !strings.HasPrefix(h.log.String(), "error") {
		t.Errorf("log lacks the cause at error level:\n%s", h.log)
	}
}

// A failure after Mattermost changed is logged at error level when only an
// admin can fix its cause (a redirect), at warn level when the user's input
// caused it (an address Zulip refuses).
func TestFailureLogLevelFollowsWhoCanFixIt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		level string
	}{
		{"redirect at the change", errMoved, "error"},
		{"address taken in Zulip", errTaken, "warn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			h.z.patchErrs = []error{nil, tc.err}
			res := h.service().ChangeEmail(context.Background(), req(annNew))
			if res.Change.State != StateRolledBack {
				t.Fatalf("state = %s, want rolled_back", res.Change.State)
			}
			var line string
			for _, l := range h.log.lines {
				if strings.Contains(l, "email change failed") {
					line = l
				}
			}
			if !strings.HasPrefix(line, tc.level+" ") || !strings.Contains(line, res.Change.ID) {
				t.Errorf("log line = %q, want level %s naming %s\n%s", line, tc.level, res.Change.ID, h.log)
			}
		})
	}
}

func TestFlowFitsInsideTheLock(t *testing.T) {
	if MaxDuration < DefaultFlowTimeout {
		t.Errorf("MaxDuration = %s", MaxDuration)
	}
}
