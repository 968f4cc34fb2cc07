package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench/chart"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Bounds of the scan phase.
const (
	scanTarget      = 30 * time.Second // issue 15: a scan of 10,000 linked users with nothing to do
	scanTargetUsers = 10_000
	scanWait        = 5 * time.Minute // for the scans asked for to be logged
	followerWait    = 90 * time.Second
)

// scanResult is one scan as the plugin logged it, with the Zulip requests
// the emulator answered while it ran.
type scanResult struct {
	End             time.Time
	Took            time.Duration
	PairsApart      int
	Work            int // forwarded + offered + agreed
	MattermostCalls int // the adapter's calls (the scan's line)
	UserPages       int
	MattermostUsers int // from the drift report line just before
	ZulipUsers      int
	ZulipRequests   int // not counting the event follower's
	ZulipPaths      []string
}

// scanPhase is the state of the scan phase across sizes.
type scanPhase struct {
	db     *psql
	pop    *population
	botID  string
	nudge  int // a deactivated Zulip-only account whose changes wake the event follower
	before int // users linked before the phase (the users phase's)
}

// scan measures the scan (server/job_reconcile.go) with nothing to do at
// each size: users written in the database, linked with /account link-all
// through the plugin, then scans asked for with the hidden
// ReconcileIntervalSeconds and read from the plugin's log line; then the
// time from a change in Zulip's own settings to the offer on the user's
// websocket.
func (r *run) scan(ctx context.Context) error {
	sizes := slices.Clone(r.cfg.ScanSizes)
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	if len(sizes) == 0 {
		return nil
	}
	r.cfg.ScanRuns = max(r.cfg.ScanRuns, 1)
	ph := &scanPhase{pop: &population{}, before: len(r.pUsers) + len(r.bUsers)}
	var err error
	if ph.db, err = newPsql(r.st); err != nil {
		return err
	}
	// The test bed's rule: MaxUsersPerTeam above the users in the team.
	if err := r.st.Bed.UpdateConfig(ctx, func(c *model.Config) {
		c.TeamSettings.MaxUsersPerTeam = model.NewPointer(sizes[len(sizes)-1] + ph.before + 1000)
	}); err != nil {
		return fmt.Errorf("raising MaxUsersPerTeam: %w", err)
	}
	bot, _, err := r.st.Bed.Admin.GetUserByUsername(ctx, "account-sync", "")
	if err != nil {
		return fmt.Errorf("the plugin's bot: %w", err)
	}
	ph.botID = bot.Id
	// The admin gets a Zulip account too, so that every Mattermost user is
	// a linked pair that agrees: a scan with nothing to do and no row.
	if _, ok := r.st.Zulip.UserByEmail(r.st.Bed.AdminUser.Email); !ok {
		r.st.Zulip.AddUser(zuliptest.User{Email: r.st.Bed.AdminUser.Email, FullName: "admin"})
	}
	ph.nudge = r.st.Zulip.AddUser(zuliptest.User{Email: "scan-nudge@example.com", FullName: "nudge", Deactivated: true}).ID

	fmt.Fprintf(&r.scans, "| linked users | Mattermost users read | scans | scan s (median) | scan s (min-max) | Mattermost calls per scan (user pages) | link reads (KV, 1 per user, derived) | Zulip requests per scan | pairs apart | work done |\n|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&r.offers, "| linked users | changes in Zulip's settings | to the offer on the websocket: p50 ms | p95 ms | max ms | to the events poll's answer: p50 ms | other Zulip requests per offer (max) | missing |\n|---|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		if err := r.scanSize(ctx, ph, n); err != nil {
			return fmt.Errorf("%d linked users: %w", n, err)
		}
	}
	return nil
}

func (r *run) scanSize(ctx context.Context, ph *scanPhase, n int) error {
	// Linked: the users phase's, the admin and the population.
	want := n - ph.before - 1
	if want < 1 {
		return fmt.Errorf("the bench already has %d linked users", ph.before+1)
	}
	grown := want - len(ph.pop.users)
	r.logf("bench: scan: %d users in Mattermost's database and in Zulip...", grown)
	if err := ph.pop.grow(ctx, r.st, ph.db, want); err != nil {
		return err
	}
	tag := fmt.Sprintf("%d linked users", n)
	r.add(info(fmt.Sprintf("users written in the database (+%d), %s", grown, tag), ph.pop.dbTime.Seconds(), "s"),
		info(fmt.Sprintf("their accounts added to the Zulip emulator (+%d), %s", grown, tag), ph.pop.zulipTime.Seconds(), "s"))

	r.logf("bench: scan: /account link-all...")
	took, linked, already, err := linkAllTimed(ctx, r.st)
	if err != nil {
		return err
	}
	if linked+already < n {
		return fmt.Errorf("/account link-all linked %d (already %d), fewer than %d", linked, already, n)
	}
	r.logf("bench: scan: /account link-all linked %d (already linked %d) in %s", linked, already, took.Round(time.Millisecond))
	r.add(info(fmt.Sprintf("/account link-all (+%d links), %s", linked, tag), took.Seconds(), "s"))

	r.logf("bench: scan: 1 + %d scans...", r.cfg.ScanRuns)
	scans, err := r.measureScans(ctx, ph)
	if err != nil {
		return err
	}
	// The scan reads the link of every user but bots.
	humans, err := ph.db.run(ctx, "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM bots b WHERE b.userid = u.id);")
	if err != nil {
		return err
	}
	r.reportScans(n, scans, atoi(humans))

	r.logf("bench: scan: %d changes in Zulip's settings...", r.cfg.Offers)
	return r.measureOffers(ctx, ph, n)
}

// measureScans has the plugin scan back to back until it logged 1 +
// ScanRuns scans, then once a day again. The first is not timed: it
// settles what earlier phases left (the baseline's users were changed in
// both systems behind the plugin's back: the scan moves their agreed
// address), so that the timed ones have nothing to do.
func (r *run) measureScans(ctx context.Context, ph *scanPhase) ([]scanResult, error) {
	log := followServerLog(r.st)
	if err := r.st.Configure(ctx, map[string]any{"MaxChangesPerUserPerDay": "0", "ReconcileIntervalSeconds": "1"}); err != nil {
		return nil, err
	}
	var scans []scanResult
	var drift *logLine
	deadline := time.Now().Add(scanWait)
	for len(scans) < 1+r.cfg.ScanRuns {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d scans logged within %s, want %d", len(scans), scanWait, 1+r.cfg.ScanRuns)
		}
		lines, err := log.next()
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			switch {
			case l.Msg == "account sync: drift report" && l.Fields["admin_id"] == "scan":
				drift = &l
			case l.Msg == "Account Sync: scan finished":
				s, err := scanOf(l, drift)
				if err != nil {
					return nil, err
				}
				scans = append(scans, s)
				drift = nil
			case strings.HasPrefix(l.Msg, "Account Sync: the scan"):
				return nil, fmt.Errorf("the scan failed: %s %v", l.Msg, l.Fields)
			}
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	first := scans[0]
	r.logf("bench: scan: the untimed first scan took %s: %d pairs apart, %d forwarded, offered or agreed", first.Took, first.PairsApart, first.Work)
	scans = scans[1 : 1+r.cfg.ScanRuns]
	reset := time.Now()
	if err := r.st.Configure(ctx, map[string]any{"MaxChangesPerUserPerDay": "0"}); err != nil {
		return nil, err
	}
	// A scan that began before the reset ends on its own.
	longest := time.Duration(0)
	for _, s := range scans {
		longest = max(longest, s.Took)
	}
	sleepCtx(ctx, 2*longest+2*time.Second)
	r.zulipRequestsOfScans(scans)
	// New settings give the plugin a new Zulip client: the event follower
	// registers a new queue once its poll ends. Offers are timed after.
	return scans, r.awaitFollower(ctx, ph, reset)
}

func scanOf(l logLine, drift *logLine) (scanResult, error) {
	took, err := time.ParseDuration(l.Fields["took"])
	if err != nil {
		return scanResult{}, fmt.Errorf("the scan's line has no duration: %v", l.Fields)
	}
	if _, ok := l.Fields["mattermost_calls"]; !ok {
		return scanResult{}, fmt.Errorf("the scan's line has no mattermost_calls (a bundle older than the bench?): %v", l.Fields)
	}
	s := scanResult{
		End: l.At, Took: took, PairsApart: l.int("pairs_apart"),
		Work:            l.int("forwarded") + l.int("offered") + l.int("agreed"),
		MattermostCalls: l.int("mattermost_calls"), UserPages: l.int("user_pages"),
	}
	if drift != nil {
		s.MattermostUsers, s.ZulipUsers = drift.int("mattermost_users"), drift.int("zulip_users")
	}
	return s, nil
}

// eventPath tells the event follower's requests (register, poll, delete).
func eventPath(p string) bool { return p == "/api/v1/events" || p == "/api/v1/register" }

// zulipRequestsOfScans counts the plugin's Zulip requests received while
// each scan ran, from its log line's time back by its duration (the log's
// times have milliseconds: a few more either side).
func (r *run) zulipRequestsOfScans(scans []scanResult) {
	reqs := r.st.Zulip.Requests()
	for i := range scans {
		s := &scans[i]
		from, to := s.End.Add(-s.Took-5*time.Millisecond), s.End.Add(5*time.Millisecond)
		for _, q := range reqs {
			if q.UserAgent == benchUserAgent || eventPath(q.Path) || q.At.Before(from) || q.At.After(to) {
				continue
			}
			s.ZulipRequests++
			s.ZulipPaths = append(s.ZulipPaths, q.Method+" "+q.Path)
		}
	}
}

// awaitFollower waits until the event follower registered a queue after
// since, waking its poll with a change of the nudge account.
func (r *run) awaitFollower(ctx context.Context, ph *scanPhase, since time.Time) error {
	deadline := time.Now().Add(followerWait)
	for i := 0; ; i++ {
		for _, q := range r.st.Zulip.Requests() {
			if q.Method == http.MethodPost && q.Path == "/api/v1/register" && q.At.After(since) && q.Status == http.StatusOK {
				sleepCtx(ctx, 500*time.Millisecond) // its first poll
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the plugin did not follow Zulip's events again within %s of new settings", followerWait)
		}
		if i%25 == 0 {
			r.st.Zulip.ChangeEmailInSettings(ph.nudge, fmt.Sprintf("scan-nudge-%d@example.com", time.Now().UnixNano()))
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

func (r *run) reportScans(n int, scans []scanResult, humans int) {
	tag := fmt.Sprintf("%d linked users", n)
	secs := make([]float64, len(scans))
	var calls, pages, users, maxReq, apart, work []float64
	for i, s := range scans {
		secs[i] = s.Took.Seconds()
		calls = append(calls, float64(s.MattermostCalls))
		pages = append(pages, float64(s.UserPages))
		users = append(users, float64(s.MattermostUsers))
		maxReq = append(maxReq, float64(s.ZulipRequests))
		apart = append(apart, float64(s.PairsApart))
		work = append(work, float64(s.Work))
		if s.ZulipRequests != 1 {
			r.logf("bench: scan %d of %s: Zulip requests %v", i+1, tag, s.ZulipPaths)
		}
	}
	d := summarise(secs)
	slices.Sort(secs)
	med := func(v []float64) float64 { return summarise(v).P50 }
	mx := func(v []float64) float64 { return summarise(v).Max }
	fmt.Fprintf(&r.scans, "| %d | %.0f | %d | %.2f | %.2f-%.2f | %.0f (%.0f) | %.0f | %.0f | %.0f | %.0f |\n",
		n, med(users), len(scans), d.P50, secs[0], d.Max, med(calls), med(pages), float64(humans), mx(maxReq), mx(apart), mx(work))
	for i, s := range scans {
		r.samples = append(r.samples, sample{Phase: fmt.Sprintf("scan-%d", n), Path: "scan", Seq: i, Ms: float64(s.Took) / float64(time.Millisecond)})
	}
	if n >= scanTargetUsers {
		r.add(atMost("scan wall time (median), "+tag, d.P50, "s", scanTarget.Seconds()))
	} else {
		r.add(info("scan wall time (median), "+tag, d.P50, "s"))
	}
	r.add(info("scan wall time (max), "+tag, d.Max, "s"),
		atMost("Zulip requests per scan (max), "+tag, mx(maxReq), "", 1),
		info("Mattermost calls per scan (adapter; median), "+tag, med(calls), ""),
		info("link reads per scan (KV; derived, not counted), "+tag, float64(humans), ""),
		atMost("pairs apart at the scan (max), "+tag, mx(apart), "", 0),
		atMost("forwarded, offered or agreed by the scan, "+tag, mx(work), "", 0))
}

// measureOffers times Offers changes made in Zulip's settings, each until
// the offer reaches the user, spread over the population.
func (r *run) measureOffers(ctx context.Context, ph *scanPhase, n int) error {
	users := ph.pop.users
	k := min(r.cfg.Offers, len(users))
	if k == 0 {
		return nil
	}
	var ms, delivered []float64
	missing, requests := 0, 0
	for i := range k {
		u := users[(i*len(users))/k+len(users)/(2*k)]
		o, err := offerLatency(ctx, r.st, ph.botID, u, ph.pop.password, fmt.Sprintf("z%d", n))
		s := sample{Phase: fmt.Sprintf("offer-%d", n), Path: "zulip-change-to-offer", Seq: i, Ms: float64(o.Took) / float64(time.Millisecond)}
		requests = max(requests, o.ZulipRequests)
		if o.Delivered > 0 {
			delivered = append(delivered, float64(o.Delivered)/float64(time.Millisecond))
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			missing++
			s.Err = err.Error()
			r.logf("bench: %v", err)
		} else {
			ms = append(ms, s.Ms)
		}
		r.samples = append(r.samples, s)
		sleepCtx(ctx, 300*time.Millisecond) // the change back reaches the plugin too
	}
	d := summarise(ms)
	tag := fmt.Sprintf("%d linked users", n)
	fmt.Fprintf(&r.offers, "| %d | %d | %.1f | %.1f | %.1f | %.1f | %d | %d |\n", n, k, d.P50, d.P95, d.Max, summarise(delivered).P50, requests, missing)
	r.add(info("Zulip-side change to offer, p50, "+tag, d.P50, "ms"),
		info("Zulip-side change to offer, max, "+tag, d.Max, "ms"),
		info("Zulip-side change to the events poll's answer, p50, "+tag, summarise(delivered).P50, "ms"),
		atMost("offers missing, "+tag, float64(missing), "", 0))
	r.panels = append(r.panels, chart.Panel{
		Title:  fmt.Sprintf("Change in Zulip's settings to the offer on the user's websocket, %s (%d changes)", tag, k),
		Series: []chart.Series{{Name: "offer", Millis: ms}},
	})
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(strings.TrimSpace(s), &n)
	return n
}
