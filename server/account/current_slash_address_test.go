package account

import (
	"context"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Zulip answers a lookup of an address holding "/" with 404 (it routes on
// the decoded path; see zuliptest TestRoutesOnTheDecodedPath).
var err404 = &zulip.APIError{Status: 404, Code: "BAD_REQUEST", Msg: "Not Found", Reason: zulip.ReasonNotFound}

// A linked user whose *current* Mattermost email holds "/" (set before the
// '/' check, by an admin, or by SSO-free sign-up) and differs from the
// linked Zulip account's address can never change it: zulipAccount looks
// the current address up by email, Zulip answers 404, and every change is
// refused "Zulip refused the request, ask your admin" with an error log.
// The new address is clean; the current one only needs the mismatch check.
func TestReviewCurrentSlashAddressBlocksEveryChange(t *testing.T) {
	const slashOld = "ann/x@example.org"
	u := annUser()
	u.Email = slashOld
	h := newHarness([]User{u}, "ann.zulip@example.org")
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
		t.Fatal(err)
	}
	h.z.errs["get:"+slashOld] = err404
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone {
		t.Errorf("state %s code %v: a change away from a '/' address is refused", res.Change.State, res.Failure)
	}
}
