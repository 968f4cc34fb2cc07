package account

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// fakeMattermost is an in-memory Mattermost with the server's email rules.
// Every user gets a plain session "s-<id>".
type fakeMattermost struct {
	users        map[string]*User
	order        []string
	sessions     map[string]Session
	admins       map[string]bool
	verify       bool
	allowDomains []string
	updateErr    error // returned by every UpdateEmail when set
	failRollback bool  // UpdateEmail back to an address fails
	keepEmail    bool  // UpdateEmail succeeds but changes nothing (OAuth users)
	getErrAfter  int   // GetUser fails after this many calls when > 0
	findErr      error // returned by every FindUserByEmail when set
	adminChecks  int   // IsSystemAdmin calls
	gets         int
	updates      []string
}

func newFakeMattermost(users ...User) *fakeMattermost {
	f := &fakeMattermost{users: map[string]*User{}, sessions: map[string]Session{}, admins: map[string]bool{}}
	for i := range users {
		f.add(users[i])
	}
	return f
}

func (f *fakeMattermost) add(u User) {
	f.users[u.ID] = &u
	f.order = append(f.order, u.ID)
	f.sessions["s-"+u.ID] = Session{UserID: u.ID}
}

func (f *fakeMattermost) GetUser(id string) (User, error) {
	f.gets++
	if f.getErrAfter > 0 && f.gets > f.getErrAfter {
		return User{}, fmt.Errorf("database down")
	}
	u, ok := f.users[id]
	if !ok {
		return User{}, ErrUserNotFound
	}
	return *u, nil
}

func (f *fakeMattermost) FindUserByEmail(email string) (User, error) {
	if f.findErr != nil {
		return User{}, f.findErr
	}
	for _, u := range f.users {
		if strings.EqualFold(u.Email, email) {
			return *u, nil
		}
	}
	return User{}, fmt.Errorf("lookup: %w", ErrUserNotFound)
}

func (f *fakeMattermost) ListUsers(page, perPage int) ([]User, error) {
	var out []User
	for i := page * perPage; i < len(f.order) && i < (page+1)*perPage; i++ {
		out = append(out, *f.users[f.order[i]])
	}
	return out, nil
}

func (f *fakeMattermost) UpdateEmail(id, email string) (string, error) {
	err := f.updateEmail(id, email)
	if err != nil {
		return "", err
	}
	return f.users[id].Email, nil
}

func (f *fakeMattermost) updateEmail(id, email string) error {
	f.updates = append(f.updates, email)
	if f.updateErr != nil {
		return f.updateErr
	}
	if f.failRollback && len(f.updates) > 1 {
		return fmt.Errorf("store: %w", ErrDomainNotAllowed)
	}
	if len(f.allowDomains) > 0 {
		ok := false
		for _, d := range f.allowDomains {
			ok = ok || strings.HasSuffix(email, "@"+d)
		}
		if !ok {
			return fmt.Errorf("update: %w", ErrDomainNotAllowed)
		}
	}
	if other, err := f.FindUserByEmail(email); err == nil && other.ID != id {
		return fmt.Errorf("update: %w", ErrEmailTaken)
	}
	if f.verify || f.keepEmail {
		return nil
	}
	f.users[id].Email = email
	f.users[id].EmailVerified = false // as Mattermost does on every change
	return nil
}

func (f *fakeMattermost) RequiresEmailVerification() bool { return f.verify }
func (f *fakeMattermost) ValidEmail(e string) bool        { return !strings.Contains(e, "invalid") }

func (f *fakeMattermost) GetSession(id string) (Session, error) {
	s, ok := f.sessions[id]
	if !ok {
		return Session{}, fmt.Errorf("get: %w", ErrSessionNotFound)
	}
	return s, nil
}

func (f *fakeMattermost) IsSystemAdmin(id string) bool {
	f.adminChecks++
	return f.admins[id]
}

// zAccount is one account of fakeZulip.
type zAccount struct {
	id       int
	addr     string
	inactive bool
	bot      bool
	hidden   bool // email visibility "nobody": not found by address, no delivery_email
}

// fakeZulip is a tiny Zulip with an owner bot. Accounts get ids 10, 11, …
// in the order given; the dummy address user{ID}@zulip.test finds any.
type fakeZulip struct {
	mu        sync.Mutex
	level     int
	version   string
	accounts  map[int]*zAccount
	errs      map[string]error // "settings", "get", "get:<addr>", "getid", "users", "dm"
	patches   []string         // "<id>-><new>"
	patchErrs []error          // consumed in order by ChangeEmailByID; nil entries succeed
	applyLost bool             // a PATCH answered with an error still applies
	// lateCommit holds a PATCH whose answer was lost; it commits when the
	// next call arrives (Zulip finishing after the client gave up).
	lateCommit func()
	dms        []sentDM
	calls      int      // requests of any kind
	reqs       []string // each request: "settings", "me", "get:<addr>", "getid:<id>", "users", "patch:<id>-><addr>", "dm"
	onPatch    func()   // called at each ChangeEmailByID, before it answers
	onUsers    func()   // called at each Users, before it answers
	botRole    int      // the bot's role for Me (0: administrator)
}

type sentDM struct {
	to      int
	content string
}

func newFakeZulip(addrs ...string) *fakeZulip {
	z := &fakeZulip{level: 332, version: "10.2", accounts: map[int]*zAccount{}, errs: map[string]error{}}
	for i, a := range addrs {
		z.accounts[i+10] = &zAccount{id: i + 10, addr: strings.ToLower(a)}
	}
	return z
}

func (z *fakeZulip) ServerSettings(context.Context) (zulip.ServerSettings, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "settings")
	if err := z.errs["settings"]; err != nil {
		return zulip.ServerSettings{}, err
	}
	return zulip.ServerSettings{Version: z.version, FeatureLevel: z.level}, nil
}

var errNoSuchUser = &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "No such user", Reason: zulip.ReasonNoSuchUser}

func (z *fakeZulip) view(a *zAccount) zulip.User {
	u := zulip.User{ID: a.id, Email: a.addr, DeliveryEmail: a.addr, IsActive: !a.inactive, IsBot: a.bot}
	if a.hidden {
		u.Email, u.DeliveryEmail = "user"+strconv.Itoa(a.id)+"@zulip.test", ""
	}
	return u
}

func (z *fakeZulip) settleLate() {
	if z.lateCommit != nil {
		z.lateCommit()
		z.lateCommit = nil
	}
}

func (z *fakeZulip) GetUser(_ context.Context, email string) (zulip.User, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "get:"+email)
	z.settleLate()
	if err := z.errs["get:"+email]; err != nil {
		return zulip.User{}, err
	}
	if err := z.errs["get"]; err != nil {
		return zulip.User{}, err
	}
	for _, a := range z.accounts {
		if "user"+strconv.Itoa(a.id)+"@zulip.test" == email || (!a.hidden && strings.EqualFold(a.addr, email)) {
			return z.view(a), nil
		}
	}
	return zulip.User{}, errNoSuchUser
}

func (z *fakeZulip) GetUserByID(_ context.Context, id int) (zulip.User, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "getid:"+strconv.Itoa(id))
	z.settleLate()
	if err := z.errs["getid"]; err != nil {
		return zulip.User{}, err
	}
	a, ok := z.accounts[id]
	if !ok {
		return zulip.User{}, errNoSuchUser
	}
	return z.view(a), nil
}

func (z *fakeZulip) Users(context.Context) ([]zulip.User, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "users")
	if z.onUsers != nil {
		z.onUsers()
	}
	if err := z.errs["users"]; err != nil {
		return nil, err
	}
	var out []zulip.User
	for _, a := range z.accounts {
		out = append(out, z.view(a))
	}
	return out, nil
}

func (z *fakeZulip) ChangeEmailByID(_ context.Context, id int, newEmail string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "patch:"+strconv.Itoa(id)+"->"+newEmail)
	z.settleLate()
	z.patches = append(z.patches, strconv.Itoa(id)+"->"+newEmail)
	if z.onPatch != nil {
		z.onPatch()
	}
	if id == 1 { // the bot itself: only the permission probe uses it
		if len(z.patchErrs) > 0 {
			err := z.patchErrs[0]
			z.patchErrs = z.patchErrs[1:]
			return err
		}
		return nil
	}
	a, ok := z.accounts[id]
	if !ok {
		return errNoSuchUser
	}
	apply := func() error {
		if a.addr == newEmail {
			return nil // Zulip: same address, nothing to do
		}
		for _, o := range z.accounts {
			if o.id != id && strings.EqualFold(o.addr, newEmail) {
				return errTaken
			}
		}
		a.addr = newEmail
		return nil
	}
	if len(z.patchErrs) > 0 {
		err := z.patchErrs[0]
		z.patchErrs = z.patchErrs[1:]
		if err != nil {
			if z.applyLost {
				z.lateCommit = func() { _ = apply() }
			}
			return err
		}
	}
	return apply()
}

func (z *fakeZulip) SendDirectMessage(_ context.Context, userID int, content string) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "dm")
	if err := z.errs["dm"]; err != nil {
		return 0, err
	}
	z.dms = append(z.dms, sentDM{to: userID, content: content})
	return len(z.dms), nil
}

// has reports whether the account with id has addr.
// Me is the owner bot (id 1), with role z.botRole (administrator when 0).
func (z *fakeZulip) Me(context.Context) (zulip.User, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	z.reqs = append(z.reqs, "me")
	if err := z.errs["me"]; err != nil {
		return zulip.User{}, err
	}
	role := z.botRole
	if role == 0 {
		role = zulip.RoleAdmin
	}
	return zulip.User{ID: 1, Email: "bot@zulip.example.org", DeliveryEmail: "bot@zulip.example.org", Role: role, IsActive: true, IsBot: true}, nil
}

func (z *fakeZulip) addrOf(id int) string {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.settleLate()
	if a, ok := z.accounts[id]; ok {
		return a.addr
	}
	return ""
}

// memRecorder keeps every saved version of every change, with the
// store's compare-and-set on versions and its index of open changes.
type memRecorder struct {
	saved  []Change
	err    error
	byID   map[string]Change
	latest map[string]string
}

func (r *memRecorder) SaveChange(_ context.Context, c *Change) error {
	if r.err != nil {
		return r.err
	}
	if r.byID == nil {
		r.byID, r.latest = map[string]Change{}, map[string]string{}
	}
	cur, ok := r.byID[c.ID]
	if (ok && cur.Version != c.Version) || (!ok && c.Version != 0) {
		return fmt.Errorf("change %s: %w", c.ID, ErrConflict)
	}
	c.Version++
	cp := *c
	cp.Steps = append([]Step(nil), c.Steps...)
	r.saved = append(r.saved, cp)
	r.byID[c.ID] = cp
	if c.Version == 1 {
		r.latest[c.UserID] = c.ID
	}
	return nil
}

func (r *memRecorder) GetChange(id string) (Change, bool, error) {
	c, ok := r.byID[id]
	c.Steps = append([]Step(nil), c.Steps...)
	return c, ok, nil
}

func (r *memRecorder) LatestChange(userID string) (Change, bool, error) {
	id, ok := r.latest[userID]
	if !ok {
		return Change{}, false, nil
	}
	return r.GetChange(id)
}

func (r *memRecorder) OpenChanges() ([]OpenChange, error) {
	var out []OpenChange
	for _, c := range r.byID {
		if c.State.Open() {
			out = append(out, OpenChange{ID: c.ID, UserID: c.UserID, State: c.State, NextAttemptAt: c.NextAttemptAt, UpdatedAt: c.UpdatedAt})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

func (r *memRecorder) DropOpen(OpenChange) error { return nil } // the index is derived from the records

func (r *memRecorder) last() (Change, bool) {
	if len(r.saved) == 0 {
		return Change{}, false
	}
	return r.saved[len(r.saved)-1], true
}

type memLocker struct {
	held   map[string]bool
	onLock func() // called when a lock is taken
	// wrap, when set, wraps each unlock given out.
	wrap func(unlock func()) func()
}

func (l *memLocker) TryLock(_ context.Context, id string) (func(), bool, error) {
	if l.held[id] {
		return nil, false, nil
	}
	l.held[id] = true
	if l.onLock != nil {
		l.onLock()
	}
	unlock := func() { delete(l.held, id) }
	if l.wrap != nil {
		unlock = l.wrap(unlock)
	}
	return unlock, true, nil
}

// memLinks keeps links both ways, like the store.
type memLinks struct {
	byUser  map[string]Link
	byZulip map[int]string
	err     error
	addErr  error // returned by AddLink only
	// unlinked are the users who removed a link.
	unlinked map[string]bool
}

func newMemLinks(bs ...Link) *memLinks {
	m := &memLinks{byUser: map[string]Link{}, byZulip: map[int]string{}}
	for _, b := range bs {
		m.byUser[b.UserID], m.byZulip[b.ZulipUserID] = b, b.UserID
	}
	return m
}

func (m *memLinks) Link(userID string) (Link, bool, error) {
	if m.err != nil {
		return Link{}, false, m.err
	}
	b, ok := m.byUser[userID]
	return b, ok, nil
}

func (m *memLinks) AddLink(b Link) error {
	if m.err != nil {
		return m.err
	}
	if m.addErr != nil {
		return m.addErr
	}
	if _, ok := m.byUser[b.UserID]; ok {
		return fmt.Errorf("user: %w", ErrAlreadyLinked)
	}
	if _, ok := m.byZulip[b.ZulipUserID]; ok {
		return fmt.Errorf("zulip: %w", ErrAlreadyLinked)
	}
	m.byUser[b.UserID], m.byZulip[b.ZulipUserID] = b, b.UserID
	return nil
}

func (m *memLinks) RemoveLink(userID string) (Link, bool, error) {
	b, ok := m.byUser[userID]
	if ok {
		if m.unlinked == nil {
			m.unlinked = map[string]bool{}
		}
		m.unlinked[userID] = true
		delete(m.byUser, userID)
		delete(m.byZulip, b.ZulipUserID)
	}
	return b, ok, nil
}

type memLinkCodes struct {
	codes     map[string]LinkCode
	sent      map[string][]time.Time // per user; see link_limits_test.go
	zulipSent map[int][]time.Time    // per Zulip account
}

func (m *memLinkCodes) LinkCode(userID string) (LinkCode, bool, error) {
	c, ok := m.codes[userID]
	return c, ok, nil
}
func (m *memLinkCodes) SaveLinkCode(userID string, c LinkCode) error { m.codes[userID] = c; return nil }
func (m *memLinkCodes) DeleteLinkCode(userID string) error           { delete(m.codes, userID); return nil }

type memUsage struct {
	usage map[string]UserUsage
	saves int
}

func (m *memUsage) Usage(userID string) (UserUsage, error) { return m.usage[userID], nil }
func (m *memUsage) SaveUsage(userID string, u UserUsage) error {
	m.saves++
	m.usage[userID] = u
	return nil
}

// clock is a settable time for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// recLogger keeps log lines so tests can check what reaches the log.
type recLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLogger) add(level, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+msg+" "+strings.TrimSpace(fmt.Sprintln(kv...)))
}
func (l *recLogger) Info(msg string, kv ...any)  { l.add("info", msg, kv...) }
func (l *recLogger) Warn(msg string, kv ...any)  { l.add("warn", msg, kv...) }
func (l *recLogger) Error(msg string, kv ...any) { l.add("error", msg, kv...) }

func (l *recLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var errTimeout = &zulip.UnavailableError{Op: "PATCH /api/v1/users/{id}", Err: errors.New("context deadline exceeded")}

// memNotifier keeps the notices the bot would word and send.
type memNotifier struct {
	sent []sentNote
	err  error
}

type sentNote struct {
	userID string
	n      Notice
}

func (n *memNotifier) Notify(userID string, notice Notice) error {
	if n.err != nil {
		return n.err
	}
	n.sent = append(n.sent, sentNote{userID, notice})
	return nil
}

// String shows a sent notice's facts in a test's failure message.
func (s sentNote) String() string { return fmt.Sprintf("{%s %+v}", s.userID, noteOf(s.n)) }

// wantNote is what a notice must tell, as the facts its text is worded
// from (reply's TestNoticeTexts words the same facts): the change's state,
// why it stopped (the code and its fact), and the systems' statuses; an
// empty field is not checked.
type wantNote struct {
	kind              NoticeKind // "" is NoticeOutcome
	state             State
	code              Code
	detail            string
	mattermost, zulip SystemStatus
	id                string // the change's ID, the text's reference
}

// noteOf is the facts of a notice, read as reply reads them: the code
// from the failure, else the record's final code, else its last error.
func noteOf(n Notice) wantNote {
	r := n.Result
	w := wantNote{kind: n.Kind, state: r.Change.State, mattermost: r.Change.Mattermost, zulip: r.Change.Zulip, id: r.Change.ID}
	switch {
	case r.Failure != nil:
		w.code = r.Failure.Code
	case r.Change.Code != "":
		w.code = r.Change.Code
	case r.Change.LastError != nil:
		w.code = r.Change.LastError.Code
	}
	switch {
	case r.Failure != nil && r.Failure.Detail != "":
		w.detail = r.Failure.Detail
	case r.Change.LastError != nil:
		w.detail = r.Change.LastError.Detail
	}
	return w
}

// matches tells whether got has every fact w names.
func (w wantNote) matches(got wantNote) bool {
	if w.kind == "" {
		w.kind = NoticeOutcome
	}
	return w.kind == got.kind && w.state == got.state &&
		(w.code == "" || w.code == got.code) && (w.detail == "" || w.detail == got.detail) &&
		(w.mattermost == "" || w.mattermost == got.mattermost) && (w.zulip == "" || w.zulip == got.zulip) &&
		(w.id == "" || w.id == got.id)
}
