package zuliptest

import (
	"net/http"
	"testing"
)

// TestGetUsers checks GET /users: every user, in order, each shown as the
// requester may see it.
func TestGetUsers(t *testing.T) {
	f := newFixture(t)
	viewers := map[string]User{"owner": f.owner, "admin": f.admin, "moderator": f.mod, "member": f.member, "guest": f.guest}
	sees := map[int]map[string]bool{
		f.ann.ID:         {"owner": true, "admin": true, "moderator": true, "member": true, "guest": true},
		f.membersOnly.ID: {"owner": true, "admin": true, "moderator": true, "member": true},
		f.modsOnly.ID:    {"owner": true, "admin": true, "moderator": true},
		f.adminsOnly.ID:  {"owner": true, "admin": true},
		f.hidden.ID:      {},
	}
	all := f.srv.Users()
	for role, viewer := range viewers {
		t.Run(role, func(t *testing.T) {
			a := call(t, f.srv, http.MethodGet, "/api/v1/users", nil, f.as(viewer))
			if a.status != 200 || a.str("result") != "success" {
				t.Fatalf("got %d %s", a.status, a.raw)
			}
			members, _ := a.body["members"].([]any)
			if len(members) != len(all) {
				t.Fatalf("%d members, want %d", len(members), len(all))
			}
			for i, m := range members {
				obj := m.(map[string]any)
				u := all[i]
				if obj["user_id"] != float64(u.ID) || obj["is_active"] != !u.Deactivated || obj["is_bot"] != u.IsBot ||
					obj["role"] != float64(u.Role) || obj["full_name"] != u.FullName {
					t.Errorf("member %d = %v, want %+v", i, obj, u)
				}
				wantEmail := u.Email
				if u.effectiveVisibility() != VisibilityEveryone {
					wantEmail = f.srv.DummyEmail(u.ID)
				}
				if obj["email"] != wantEmail {
					t.Errorf("member %d email %v, want %s", u.ID, obj["email"], wantEmail)
				}
				visible, listed := sees[u.ID]
				var wantDelivery any = u.Email
				if listed && !visible[role] {
					wantDelivery = nil
				}
				got, present := obj["delivery_email"]
				if !present || got != wantDelivery {
					t.Errorf("member %d delivery_email %v (present %v), want %v", u.ID, got, present, wantDelivery)
				}
			}
		})
	}

	t.Run("deactivated users are listed", func(t *testing.T) {
		a := call(t, f.srv, http.MethodGet, "/api/v1/users", nil, f.as(f.owner))
		found := false
		for _, m := range a.body["members"].([]any) {
			if obj := m.(map[string]any); obj["user_id"] == float64(f.gone.ID) {
				found = obj["is_active"] == false
			}
		}
		if !found {
			t.Errorf("deactivated user missing or active: %s", a.raw)
		}
	})

	t.Run("authentication and methods", func(t *testing.T) {
		if a := call(t, f.srv, http.MethodGet, "/api/v1/users", nil, creds{}); a.status != 401 {
			t.Errorf("no credentials: %d", a.status)
		}
		if a := call(t, f.srv, http.MethodPost, "/api/v1/users", nil, f.as(f.owner)); a.status != 405 {
			t.Errorf("POST: %d", a.status)
		}
	})
}
