package account

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// review3PanickyZulip panics in the lookup of one address: a bug in the
// client or in what it decodes.
type review3PanickyZulip struct {
	*fakeZulip
	addr string
}

func (z *review3PanickyZulip) GetUser(ctx context.Context, email string) (zulip.User, error) {
	if email == z.addr {
		panic("zulip client: index out of range")
	}
	return z.fakeZulip.GetUser(ctx, email)
}

// review3Recovered runs fn as the plugin's HTTP routes do
// (recoverMiddleware): a panic answers 500 and the plugin lives on.
func review3Recovered(fn func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	fn()
	return false
}

// Before Issue 17 the new address was looked up on the request's own
// goroutine, so a panic in that lookup was recovered by the HTTP routes'
// recoverMiddleware (one request failed). For a linked user the lookup now
// runs on a goroutine of its own, with no recover: the same panic takes the
// whole plugin process down (every user, every job). Run in a child
// process, since the panic cannot be caught in this one.
func TestReview3PanicInTheSideBySideLookupIsRecovered(t *testing.T) {
	if os.Getenv("REVIEW3_CHILD") == "1" {
		h := newHarness([]User{annUser()}, ann)
		h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
		svc := newTestService(h.deps(&review3PanickyZulip{fakeZulip: h.z, addr: annNew}), withNow(h))
		review3Recovered(func() { svc.ChangeEmail(context.Background(), req(annNew)) })
		time.Sleep(100 * time.Millisecond) // the goroutine's panic, if any, lands here
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReview3PanicInTheSideBySideLookupIsRecovered$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REVIEW3_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		first := strings.SplitN(string(out), "\n", 3)
		t.Errorf("a panic in the side-by-side lookup killed the process (%v): %s", err, strings.Join(first[:min(2, len(first))], " | "))
	}
}

// Held: a panic on the request's goroutine (the linked account's read)
// leaves nothing behind: the lookup's goroutine ends on its own (its
// channel is buffered) once the flow's context is cancelled.
func TestReview3NoGoroutineOutlivesAPanicOrACancel(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		h := newHarness([]User{annUser()}, ann)
		h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
		svc := newTestService(h.deps(&review3PanickyZulip{fakeZulip: h.z, addr: ann}), withNow(h))
		h.z.accounts[10].addr = "ann.zulip@example.org" // the linked read is followed by a lookup of ann: it panics
		if !review3Recovered(func() { svc.ChangeEmail(context.Background(), req(annNew)) }) {
			t.Fatal("the linked read did not panic")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h2 := newHarness([]User{annUser()}, ann)
		h2.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
		h2.service().ChangeEmail(ctx, req(annNew))
	}
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}
