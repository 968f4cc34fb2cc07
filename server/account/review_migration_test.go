package account

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Review: the domain migration plan.

// Mattermost lists users by username, page by page (offsets): a user
// created (or renamed) during the plan's read shifts the pages, and the
// user at a page's end is read twice. The plan then lists and counts that
// user twice.
type reviewShiftingMM struct {
	*fakeMattermost
	shifted bool
}

func (m *reviewShiftingMM) ListUsers(page, perPage int) ([]User, error) {
	if page == 1 && !m.shifted {
		// A new user "aaa" (first by username) is created between the reads.
		m.shifted = true
		m.order = append([]string{"aaa"}, m.order...)
		m.users["aaa"] = &User{ID: "aaa", Username: "aaa", Email: "aaa@elsewhere.example", EmailVerified: true}
	}
	return m.fakeMattermost.ListUsers(page, perPage)
}

func TestReviewPlanListsEachUserOnce(t *testing.T) {
	var users []User
	var addrs []string
	users = append(users, User{ID: "root", Username: "root", Email: "root@example.com", EmailVerified: true})
	for i := range 250 {
		e := fmt.Sprintf("u%03d@old.example", i)
		users = append(users, User{ID: fmt.Sprintf("u%03d", i), Username: fmt.Sprintf("u%03d", i), Email: e, EmailVerified: true})
		addrs = append(addrs, e)
	}
	h := newHarness(users, addrs...)
	h.mm.admins["root"] = true
	for i := range 250 {
		if err := h.links.AddLink(Link{UserID: fmt.Sprintf("u%03d", i), ZulipUserID: 10 + i}); err != nil {
			t.Fatal(err)
		}
	}
	o := h.opts
	o.Now = h.clock.now
	d := h.deps(h.z)
	d.Mattermost = &reviewShiftingMM{fakeMattermost: h.mm}
	m, f := newTestService(d, o).PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	seen := map[string]int{}
	for _, it := range m.Items {
		seen[it.UserID]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s listed %d times (plan: %d users, %d to change, for 250 users)", id, n, len(m.Items), m.ToChange())
		}
	}
}

// The plan's time estimate covers the Zulip requests the migration's run
// makes for its users (warm facts, as a long run has them): the one list of
// the batch and each user's change.
func TestReviewPlanEstimateCoversTheFlowsRequests(t *testing.T) {
	h := newHarness([]User{{ID: "root", Username: "root", Email: "root@example.com", EmailVerified: true}, annUser()}, ann)
	h.mm.admins["root"] = true
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, AgreedEmail: ann})
	h.facts = NewZulipFacts(time.Hour)
	_ = h.service().zulipReady(context.Background())
	m, f := h.service().PlanMigration(context.Background(), "root", "s-root", "example.org", "new.example.org")
	if f != nil || m.ToChange() != 1 {
		t.Fatalf("plan %v: %+v", f, m)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationStart); f != nil {
		t.Fatal(f)
	}
	h.z.calls, h.z.reqs = 0, nil
	if step, f := h.service().RunMigration(context.Background()); f != nil || step.Changed != 1 {
		t.Fatalf("run %+v %v", step, f)
	}
	perUser := h.z.calls - 1 // the batch's list is shared by up to a batch of users
	if perUser > m.RequestsPerUser {
		t.Errorf("the plan counts %d requests a user; the run made %d besides the list: %v", m.RequestsPerUser, perUser, h.z.reqs)
	}
}
