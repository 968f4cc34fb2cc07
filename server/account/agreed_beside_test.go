package account

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// meetingRecorder holds a new record's save until the agreed address's
// write has started (and the other way round).
type meetingRecorder struct {
	*memRecorder
	*meeting
}

func (r *meetingRecorder) SaveChange(ctx context.Context, c *Change) error {
	if c.Version == 0 && !r.meet() {
		return errors.New("not side by side")
	}
	return r.memRecorder.SaveChange(ctx, c)
}

// meetingAgreed meets on the agreed address's write.
type meetingAgreed struct {
	*memLinks
	*meeting
	panics bool
}

func (m *meetingAgreed) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	if m.meeting != nil && !m.meet() {
		return "", false, errors.New("not side by side")
	}
	if m.panics {
		m.panics = false // once
		panic("adapter bug")
	}
	return m.memLinks.SetAgreedEmail(userID, zulipUserID, email)
}

// recorderStore is the harness's store with another Recorder and Links.
type recorderStore struct {
	memStore
	rec   Recorder
	links Links
}

func (s recorderStore) SaveChange(ctx context.Context, c *Change) error {
	return s.rec.SaveChange(ctx, c)
}
func (s recorderStore) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	return s.links.SetAgreedEmail(userID, zulipUserID, email)
}

func recorderService(h *harness, rec Recorder, links Links) *Service {
	d := h.deps(h.z)
	d.Store = recorderStore{memStore: d.Store.(memStore), rec: rec, links: links}
	return newTestService(d, withNow(h))
}

// Issue 17: a new change's write-ahead record and the move of the agreed
// address go side by side (one round trip less); the record keeps where
// the address was, and the change ends with both systems and the link at
// the new address.
func TestAgreedMovedBesideTheRecord(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	mt := newMeeting()
	res := recorderService(h, &meetingRecorder{h.rec, mt}, &meetingAgreed{memLinks: h.links, meeting: mt}).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || res.Failure != nil || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != annNew {
		t.Errorf("agreed %q, want %q", l.AgreedEmail, annNew)
	}
	stored, ok, _ := h.rec.GetChange(res.Change.ID)
	if !ok || stored.AgreedBefore != ann || stored.State != StateDone {
		t.Errorf("record %+v: want done, agreed before %q", stored, ann)
	}
}

// When the record cannot be saved, the change is refused as before and
// the agreed address, moved meanwhile, is put back.
func TestAgreedPutBackWhenTheRecordFails(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	h.rec.err = errors.New("kv down")
	refusedAsInternal(t, h, h.service().ChangeEmail(context.Background(), req(annNew)))
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != ann {
		t.Errorf("agreed %q, want it back at %q", l.AgreedEmail, ann)
	}
}

// A panic in the agreed address's write ahead fails that write only: the
// change is made, and its end puts the address where both systems are.
func TestAgreedMoveThatPanics(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	links := &meetingAgreed{memLinks: h.links, panics: true}
	res := recorderService(h, h.rec, links).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != annNew {
		t.Errorf("agreed %q, want %q", l.AgreedEmail, annNew)
	}
	if !strings.Contains(h.log.String(), "adapter bug") {
		t.Errorf("the panic is not in the log:\n%s", h.log)
	}
}
