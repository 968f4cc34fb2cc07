package account

import (
	"slices"
	"strings"
	"testing"
)

// memStore is the flow's Store made of the separate in-memory fakes, so a
// test can reach each one.
type memStore struct {
	*memRecorder
	*memLinks
	*memLinkCodes
	*memUsage
	*memLocker
	*memOffers
	*memMigrations
}

// deps are the harness's fakes as the service's dependencies.
func (h *harness) deps(zc Zulip) Deps {
	return Deps{
		Mattermost: h.mm, Zulip: zc, Notifier: h.notes, Auditor: h.auditor, Logger: h.log, Facts: h.facts, LinkCodeText: linkCodeText,
		Store: memStore{memRecorder: h.rec, memLinks: h.links, memLinkCodes: h.codes, memUsage: h.usage, memLocker: h.locker, memOffers: h.offers, memMigrations: h.migrations},
	}
}

// linkCodeText stands for reply.LinkCodeMessage (whose words reply's
// tests check): the message names who asked and carries the code in the
// command to type.
func linkCodeText(username, code string) string {
	return "`@" + username + "` asked to link: type `/account link " + code + "`"
}

// newTestService wires a service, failing the test if it cannot.
func newTestService(d Deps, set Settings) *Service {
	s, err := NewService(d, set)
	if err != nil {
		panic(err)
	}
	return s
}

type nopAuditor struct{}

func (nopAuditor) Audit(AuditEvent) {}

// noLimits is a Usage that keeps nothing, so no limit is ever reached.
type noLimits struct{}

func (noLimits) Usage(string) (UserUsage, error)   { return UserUsage{}, nil }
func (noLimits) SaveUsage(string, UserUsage) error { return nil }

// NewService refuses every missing dependency but Zulip (nil while Zulip
// is not set up).
func TestNewServiceNeedsItsDependencies(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	for name, drop := range map[string]func(d *Deps){
		"Mattermost":   func(d *Deps) { d.Mattermost = nil },
		"Store":        func(d *Deps) { d.Store = nil },
		"Notifier":     func(d *Deps) { d.Notifier = nil },
		"Auditor":      func(d *Deps) { d.Auditor = nil },
		"Logger":       func(d *Deps) { d.Logger = nil },
		"ZulipFacts":   func(d *Deps) { d.Facts = nil },
		"LinkCodeText": func(d *Deps) { d.LinkCodeText = nil },
	} {
		d := h.deps(h.z)
		drop(&d)
		if s, err := NewService(d, h.opts); err == nil || s != nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v, %v", name, s, err)
		}
	}
	if _, err := NewService(h.deps(nil), h.opts); err != nil {
		t.Errorf("without Zulip: %v", err)
	}
}

// ListChanges pages the saved records, newest first.
func (r *memRecorder) ListChanges(state State, page, perPage int) ([]Change, error) {
	var all []Change
	for _, c := range r.byID {
		if state == "" || c.State == state {
			all = append(all, c)
		}
	}
	slices.SortFunc(all, func(a, b Change) int { return b.CreatedAt.Compare(a.CreatedAt) })
	start := min(page*perPage, len(all))
	return all[start:min(start+perPage, len(all))], nil
}

// SetAgreedEmail sets the link's agreed address if it still goes to
// zulipUserID.
func (m *memLinks) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	if m.err != nil {
		return "", false, m.err
	}
	l, ok := m.byUser[userID]
	if !ok || l.ZulipUserID != zulipUserID {
		return "", false, nil
	}
	before := l.AgreedEmail
	l.AgreedEmail = email
	m.byUser[userID] = l
	return before, true, nil
}

// memOffers keeps each user's latest offer.
type memOffers struct{ byUser map[string]Offer }

func (m *memOffers) Offer(userID string) (Offer, bool, error) {
	o, ok := m.byUser[userID]
	return o, ok, nil
}

func (m *memOffers) SaveOffer(o Offer) error {
	if m.byUser == nil {
		m.byUser = map[string]Offer{}
	}
	m.byUser[o.UserID] = o
	return nil
}

// LinkedUser returns the user linked to a Zulip account.
func (m *memLinks) LinkOfZulip(zulipUserID int) (Link, bool, error) {
	u, ok := m.byZulip[zulipUserID]
	if !ok {
		return Link{}, false, nil
	}
	b, ok := m.byUser[u]
	return b, ok && b.ZulipUserID == zulipUserID, nil
}

// memMigrations keeps domain migrations by id.
type memMigrations struct {
	byID      map[string]Migration
	latest    string
	active    string
	err       error
	itemSaves int
}

func (m *memMigrations) SaveMigration(mg Migration) error {
	if m.err != nil {
		return m.err
	}
	if m.byID == nil {
		m.byID = map[string]Migration{}
	}
	mg.Items = slices.Clone(mg.Items)
	m.byID[mg.ID] = mg
	if mg.State == MigrationPlanned {
		m.latest = mg.ID
	}
	return nil
}

func (m *memMigrations) ActiveMigration() (string, bool, error) {
	return m.active, m.active != "", m.err
}

func (m *memMigrations) ClaimActiveMigration(id string) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	if m.active != "" && m.active != id {
		return false, nil
	}
	m.active = id
	return true, nil
}

func (m *memMigrations) ReleaseActiveMigration(id string) error {
	if m.err != nil {
		return m.err
	}
	if m.active == id {
		m.active = ""
	}
	return nil
}

func (m *memMigrations) SaveMigrationItems(mg Migration, _ ...int) error {
	m.itemSaves++
	return m.SaveMigration(mg)
}

func (m *memMigrations) LatestMigration() (string, bool, error) {
	return m.latest, m.latest != "", m.err
}

func (m *memMigrations) Migration(id string) (Migration, bool, error) {
	mg, ok := m.byID[id]
	mg.Items = slices.Clone(mg.Items)
	return mg, ok, m.err
}

// Unlinked tells whether the user removed a link.
func (m *memLinks) Unlinked(userID string) (bool, error) { return m.unlinked[userID], m.err }
