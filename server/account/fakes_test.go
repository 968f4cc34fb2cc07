package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// fakeMattermost is an in-memory Mattermost with the server's email rules.
type fakeMattermost struct {
	users        map[string]*User
	verify       bool
	allowDomains []string
	updateErr    error // returned by every UpdateEmail when set
	failRollback bool  // UpdateEmail back to an address fails
	keepEmail    bool  // UpdateEmail succeeds but changes nothing (OAuth users)
	getErrAfter  int   // GetUser fails after this many calls when > 0
	gets         int
	updates      []string
}

func newFakeMattermost(users ...User) *fakeMattermost {
	f := &fakeMattermost{users: map[string]*User{}}
	for i := range users {
		u := users[i]
		f.users[u.ID] = &u
	}
	return f
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
	for _, u := range f.users {
		if strings.EqualFold(u.Email, email) {
			return *u, nil
		}
	}
	return User{}, fmt.Errorf("lookup: %w", ErrUserNotFound)
}

func (f *fakeMattermost) UpdateEmail(id, email string) error {
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
	return nil
}

func (f *fakeMattermost) RequiresEmailVerification() bool { return f.verify }
func (f *fakeMattermost) ValidEmail(e string) bool        { return !strings.Contains(e, "invalid") }

// fakeZulip is a tiny Zulip with an owner bot, keyed by lower-case address.
type fakeZulip struct {
	mu        sync.Mutex
	level     int
	version   string
	users     map[string]int // address -> id
	errs      map[string]error
	patches   []string // "current->new"
	patchErrs []error  // consumed in order by ChangeEmail; nil entries succeed
	applyLost bool     // the real PATCH applies but answers an error
	downAfter int      // GetUser fails as unreachable once this many PATCHes were made (0: never)
}

func newFakeZulip(addrs ...string) *fakeZulip {
	z := &fakeZulip{level: 332, version: "10.2", users: map[string]int{}, errs: map[string]error{}}
	for i, a := range addrs {
		z.users[strings.ToLower(a)] = i + 10
	}
	return z
}

func (z *fakeZulip) ServerSettings(context.Context) (zulip.ServerSettings, error) {
	if err := z.errs["settings"]; err != nil {
		return zulip.ServerSettings{}, err
	}
	return zulip.ServerSettings{Version: z.version, FeatureLevel: z.level}, nil
}

func (z *fakeZulip) GetUser(_ context.Context, email string) (zulip.User, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := z.errs["get:"+email]; err != nil {
		return zulip.User{}, err
	}
	if err := z.errs["get"]; err != nil {
		return zulip.User{}, err
	}
	if z.downAfter > 0 && len(z.patches) >= z.downAfter {
		return zulip.User{}, &zulip.UnavailableError{Op: "GET", Err: errors.New("connection refused")}
	}
	id, ok := z.users[strings.ToLower(email)]
	if !ok {
		return zulip.User{}, &zulip.APIError{Status: 400, Code: "BAD_REQUEST", Msg: "No such user", Reason: zulip.ReasonNoSuchUser}
	}
	return zulip.User{ID: id, Email: strings.ToLower(email), DeliveryEmail: strings.ToLower(email), IsActive: true}, nil
}

func (z *fakeZulip) ChangeEmail(_ context.Context, current, newEmail string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.patches = append(z.patches, current+"->"+newEmail)
	if len(z.patchErrs) > 0 {
		err := z.patchErrs[0]
		z.patchErrs = z.patchErrs[1:]
		if err != nil {
			if z.applyLost && current != newEmail {
				z.move(current, newEmail)
			}
			return err
		}
	}
	if current != newEmail {
		z.move(current, newEmail)
	}
	return nil
}

func (z *fakeZulip) move(from, to string) {
	id := z.users[strings.ToLower(from)]
	delete(z.users, strings.ToLower(from))
	z.users[strings.ToLower(to)] = id
}

func (z *fakeZulip) has(addr string) bool {
	_, ok := z.users[strings.ToLower(addr)]
	return ok
}

// memRecorder keeps every saved version of every change.
type memRecorder struct {
	saved []Change
	err   error
}

func (r *memRecorder) SaveChange(_ context.Context, c *Change) error {
	if r.err != nil {
		return r.err
	}
	cp := *c
	cp.Steps = append([]Step(nil), c.Steps...)
	r.saved = append(r.saved, cp)
	return nil
}

func (r *memRecorder) last() (Change, bool) {
	if len(r.saved) == 0 {
		return Change{}, false
	}
	return r.saved[len(r.saved)-1], true
}

type memLocker struct{ held map[string]bool }

func (l *memLocker) TryLock(_ context.Context, id string) (func(), bool, error) {
	if l.held[id] {
		return nil, false, nil
	}
	l.held[id] = true
	return func() { delete(l.held, id) }, true, nil
}

// recLogger keeps log lines so tests can check what reaches the log.
type recLogger struct{ lines []string }

func (l *recLogger) add(level, msg string, kv ...any) {
	l.lines = append(l.lines, level+" "+msg+" "+fmt.Sprint(kv...))
}
func (l *recLogger) Info(msg string, kv ...any)  { l.add("info", msg, kv...) }
func (l *recLogger) Warn(msg string, kv ...any)  { l.add("warn", msg, kv...) }
func (l *recLogger) Error(msg string, kv ...any) { l.add("error", msg, kv...) }
