package account

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkChangeEmail measures the flow's own cost (gates, validation,
// checks, records, report) for a linked user with in-memory systems, so
// changes that make the flow slower show up here rather than in timed
// tests. Zulip's facts are remembered, as in production.
func BenchmarkChangeEmail(b *testing.B) {
	h := newHarness([]User{annUser()}, ann)
	h.facts = NewZulipFacts(ZulipFactsTTL)
	h.opts.MaxChangesPerDay = 0
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	o := h.opts
	o.Now = h.clock.now
	d := h.deps(h.z)
	st := d.Store.(memStore)
	d.Store = struct {
		memStore
		noLimits
	}{st, noLimits{}} // no usage kept: the per-hour limit would stop a long run
	svc := newTestService(d, o)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", SessionID: "s-u1", NewEmail: "ann" + strconv.Itoa(i) + "@example.org"})
		if res.Change.State != StateDone {
			b.Fatalf("state %s: %v", res.Change.State, res.Failure)
		}
	}
}

// BenchmarkNormalizeAddress measures the address checks of every request.
func BenchmarkNormalizeAddress(b *testing.B) {
	inputs := []string{"  Ann.Example+tag@Mail.Example.ORG ", "user@xn--bcher-kva.example", "no-at-sign", "a@b.c"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = NormalizeAddress(inputs[i%len(inputs)], func(string) bool { return true })
	}
}
