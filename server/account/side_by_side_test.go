package account

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// meeting holds two calls until both have started: done one after the
// other, they never meet and the first gives up (meet is false).
type meeting struct {
	arrived chan struct{}
	once    sync.Once
	met     chan struct{}
}

func newMeeting() *meeting {
	return &meeting{arrived: make(chan struct{}, 2), met: make(chan struct{})}
}

func (m *meeting) meet() bool {
	m.arrived <- struct{}{}
	if len(m.arrived) == 2 {
		m.once.Do(func() { close(m.met) })
	}
	select {
	case <-m.met:
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

// meetingZulip holds the linked account's read and the new address's
// lookup until both have started.
type meetingZulip struct {
	*fakeZulip
	*meeting
}

func (m *meetingZulip) GetUserByID(ctx context.Context, id int) (zulip.User, error) {
	if !m.meet() {
		return zulip.User{}, errDown
	}
	return m.fakeZulip.GetUserByID(ctx, id)
}

func (m *meetingZulip) GetUser(ctx context.Context, email string) (zulip.User, error) {
	if !m.meet() {
		return zulip.User{}, errDown
	}
	return m.fakeZulip.GetUser(ctx, email)
}

// Issue 17: for a linked user, the linked account's read and the new
// address's lookup go to Zulip side by side: one round trip, not two.
func TestLinkedChecksRunSideBySide(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	h.facts = NewZulipFacts(ZulipFactsTTL)
	svc := h.service()
	if f := svc.zulipReady(context.Background()); f != nil {
		t.Fatal(f)
	}
	mz := &meetingZulip{fakeZulip: h.z, meeting: newMeeting()}
	res := newTestService(h.deps(mz), withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.z.addrOf(10) != annNew {
		t.Errorf("the checks did not meet: %s (%v)", res.Change.State, res.Failure)
	}
}

// A user without a link is proven first; the new address is looked up
// only then (nothing is asked of Zulip about an address for someone who
// cannot change it).
func TestUnlinkedChecksStayInOrder(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.mm.users["u1"].EmailVerified = false
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	for _, r := range h.z.reqs {
		if r == "get:"+annNew {
			t.Errorf("the new address was looked up for a user who could not be linked: %v", h.z.reqs)
		}
	}
	if res.Failure == nil || res.Failure.Code != CodeNotLinked {
		t.Errorf("%v", res.Failure)
	}
}
