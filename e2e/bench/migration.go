package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench/chart"
	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Figures of the migration phase (issue 16).
const (
	// Zulip's default budget of one bot: 200 requests a minute.
	zulipDefaultRate   = 200
	zulipDefaultWindow = time.Minute
	// The plugin's batches (server/account/migration_list.go) share one
	// Zulip list of the users for at most this many users.
	migrationListUsers = 100
	// Targets.
	migrationRequestsPerUser = 1.05
	migrationBudgetShare     = 90 // %
	// An interactive /account email by another user, this often, while
	// the migration runs; the users take turns, each well under the
	// plugin's 20 attempts an hour.
	interactiveEvery = 20 * time.Second
	interactiveUsers = 5
	interactiveName  = "migr-inter"
	migrationPoll    = 2 * time.Second
	bucketWidth      = 10 * time.Second // of migration.csv
)

// migrationAnswer is what the plugin's API answers about a migration (the
// fields the bench reads).
type migrationAnswer struct {
	ID              string         `json:"id"`
	State           string         `json:"state"`
	ToChange        int            `json:"to_change"`
	Skipped         map[string]int `json:"skipped"`
	EstimateSeconds int            `json:"estimate_seconds"`
	Progress        struct {
		Done    int `json:"done"`
		Waiting int `json:"waiting"`
		Failed  int `json:"failed"`
		Skipped int `json:"skipped"`
		Left    int `json:"left"`
	} `json:"progress"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	ZulipDown bool       `json:"zulip_down"`
	Users     []struct {
		UserID   string `json:"user_id"`
		NewEmail string `json:"new_email"`
		Status   string `json:"status"`
		Skip     string `json:"skip"`
		Code     string `json:"code"`
	} `json:"users"`
	Replanned bool `json:"replanned"`
}

// migrationAPI calls the plugin's migrations API as the system admin.
func migrationAPI(ctx context.Context, st *stack.Stack, method, path string, body any, want int) (migrationAnswer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return migrationAnswer{}, err
		}
		rd = bytes.NewReader(b)
	}
	url := st.Bed.SiteURL + "/plugins/" + stack.PluginID + "/api/v1/migrations" + path
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return migrationAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+st.Bed.Admin.AuthToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := httpClient.Do(req)
	if err != nil {
		return migrationAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return migrationAnswer{}, err
	}
	if resp.StatusCode != want {
		return migrationAnswer{}, fmt.Errorf("%s /migrations%s: %s: %s", method, path, resp.Status, firstLine(string(raw)))
	}
	var out migrationAnswer
	if err := json.Unmarshal(raw, &out); err != nil {
		return migrationAnswer{}, fmt.Errorf("%s /migrations%s: %w", method, path, err)
	}
	return out, nil
}

// interactiveSample is one /account email made during the run.
type interactiveSample struct {
	At      time.Time
	Ms      float64
	Outcome string // "done": in both systems when the reply came; "queued": Zulip asked to wait; "error"
	Err     string
}

// requestKind sorts the bot's Zulip requests during the run.
type requestKind int

const (
	kindPatch       requestKind = iota // the migration's PATCH /users/{id}
	kindList                           // GET /users: the batches' lists (and the start's plan)
	kindEvents                         // the event follower's register and polls
	kindInteractive                    // the interactive user's change
	kindOther
	kindCount
)

var kindNames = [kindCount]string{"migration PATCH", "GET /users (lists)", "events", "interactive", "other"}

// requestCounts is the bot's Zulip requests in the run, by kind.
type requestCounts struct {
	log              []loggedRequest
	allowed, refused [kindCount]int
	otherPaths       map[string]int
	patchesPerUser   map[string]int // Zulip id -> allowed PATCHes of a migrated user
	buckets          [][kindCount + 1]int
	firstPatch       time.Time
	lastPatch        time.Time // answered
}

func (c *requestCounts) total(allowed bool, kinds ...requestKind) int {
	n := 0
	for _, k := range kinds {
		if allowed {
			n += c.allowed[k]
		} else {
			n += c.refused[k]
		}
	}
	return n
}

// migration measures a domain migration of MigrationUsers linked users
// against the emulator at Zulip's default limit (200 requests a minute),
// with an interactive change by another user every 20 s meanwhile; then
// checks every user in both systems; then times the plan (only) of
// MigrationPlanUsers users and the plugin's memory around it.
func (r *run) migration(ctx context.Context) error {
	n, planN := r.cfg.MigrationUsers, r.cfg.MigrationPlanUsers
	db, err := newPsql(r.st)
	if err != nil {
		return err
	}
	tag := randomTag()
	existing, err := db.run(ctx, "SELECT count(*) FROM users;")
	if err != nil {
		return err
	}
	// The test bed's rule: MaxUsersPerTeam above the users in the team.
	if err := r.st.Bed.UpdateConfig(ctx, func(c *model.Config) {
		c.TeamSettings.MaxUsersPerTeam = model.NewPointer(atoi(existing) + n + planN + 1000)
	}); err != nil {
		return fmt.Errorf("raising MaxUsersPerTeam: %w", err)
	}
	// Zulip's default limit from here on; the plugin's pacer learns it from
	// the headers of its next answers.
	r.st.Zulip.SetRateLimit(zulipDefaultRate, zulipDefaultWindow)
	defer r.st.Zulip.SetRateLimit(1_000_000, time.Minute)
	if n > 0 {
		if err := r.migrationRun(ctx, db, n, tag); err != nil {
			return err
		}
	}
	if planN > 0 {
		return r.migrationPlan(ctx, db, planN, tag)
	}
	return nil
}

func (r *run) migrationRun(ctx context.Context, db *psql, n int, tag string) error {
	from, to := "old-"+tag+".example", "new-"+tag+".example"
	pop := &population{naming: naming{idPrefix: "migrbench", namePrefix: "migr-", domain: from}}
	r.logf("bench: migration: %d users at %s in Mattermost's database and in Zulip...", n, from)
	if err := pop.grow(ctx, r.st, db, n); err != nil {
		return err
	}
	inters, err := createUsers(ctx, r.st, interactiveName, interactiveUsers, true)
	if err != nil {
		return err
	}
	took, linked, already, err := linkAllTimed(ctx, r.st)
	if err != nil {
		return err
	}
	r.logf("bench: migration: /account link-all linked %d (already linked %d) in %s", linked, already, took.Round(time.Millisecond))

	plan, err := migrationAPI(ctx, r.st, http.MethodPost, "", map[string]string{"from": from, "to": to}, http.StatusCreated)
	if err != nil {
		return err
	}
	if plan.ToChange != n {
		return fmt.Errorf("the plan of %s -> %s changes %d users, want %d (skipped: %v)", from, to, plan.ToChange, n, plan.Skipped)
	}
	r.logf("bench: migration: planned %s -> %s: %d users, estimate %d s", from, to, plan.ToChange, plan.EstimateSeconds)

	rss := sampleRSS(r.st)
	log := followServerLog(r.st)
	start := time.Now()
	started, err := migrationAPI(ctx, r.st, http.MethodPost, "/"+plan.ID+"/start", nil, http.StatusOK)
	if err != nil {
		return err
	}
	if started.State != "running" && started.State != "done" {
		return fmt.Errorf("the migration is %q after its start", started.State)
	}
	r.logf("bench: migration: started (replanned: %v); an interactive change every %s meanwhile", started.Replanned, interactiveEvery)

	ictx, stopInteractive := context.WithCancel(ctx)
	var samples []interactiveSample
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		samples = r.interactiveChanges(ictx, inters)
	}()
	last, progress, err := r.awaitMigration(ctx, plan.ID, start, max(4*time.Duration(plan.EstimateSeconds)*time.Second, 2*time.Minute)+5*time.Minute)
	stopInteractive()
	wg.Wait()
	peak := rss.Max()
	if err != nil {
		return err
	}
	end := time.Now()
	runTime := end.Sub(start)
	if last.StartedAt != nil && last.EndedAt != nil {
		end = *last.EndedAt
		runTime = last.EndedAt.Sub(*last.StartedAt)
	}
	r.logMigrationLines(log)

	counts := countRequests(r.st, start, end, inters)
	if err := writeBuckets(filepath.Join(r.cfg.Out, "migration.csv"), start, counts, progress); err != nil {
		return err
	}
	if err := writeRequests(filepath.Join(r.cfg.Out, "migration-requests.csv"), start, counts); err != nil {
		return err
	}

	// Every user of the population must now have the new address in both
	// systems, the interactive users their last one.
	for _, u := range pop.users {
		local, _, _ := strings.Cut(u.email, "@")
		u.email = local + "@" + to
	}
	lost, mismatched, err := verify(ctx, r.st, pop.users)
	if err != nil {
		return err
	}
	iLost, iMismatched, err := r.settleInteractive(ctx, inters)
	if err != nil {
		return err
	}
	r.report(n, runTime, counts, samples, last, lost+iLost, mismatched+iMismatched, peak)
	return nil
}

// awaitMigration reads the migration until it is done (or the wait ends),
// logging its progress; it returns the last answer and the users done over
// time.
func (r *run) awaitMigration(ctx context.Context, id string, start time.Time, wait time.Duration) (migrationAnswer, []progressPoint, error) {
	deadline := start.Add(wait)
	var points []progressPoint
	lastLog := time.Now()
	for {
		m, err := migrationAPI(ctx, r.st, http.MethodGet, "/"+id, nil, http.StatusOK)
		if err != nil {
			return m, points, err
		}
		p := m.Progress
		points = append(points, progressPoint{At: time.Now(), Done: p.Done + p.Waiting + p.Failed + p.Skipped})
		switch m.State {
		case "done":
			r.logf("bench: migration: done in %s: %+v", time.Since(start).Round(time.Second), p)
			return m, points, nil
		case "running":
		default:
			return m, points, fmt.Errorf("the migration is %q: %+v", m.State, p)
		}
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			r.logf("bench: migration: %s: %d done, %d waiting, %d failed, %d skipped, %d left (Zulip down: %v)",
				time.Since(start).Round(time.Second), p.Done, p.Waiting, p.Failed, p.Skipped, p.Left, m.ZulipDown)
		}
		if time.Now().After(deadline) {
			return m, points, fmt.Errorf("the migration is not done after %s: %+v", wait, p)
		}
		sleepCtx(ctx, migrationPoll)
		if ctx.Err() != nil {
			return m, points, ctx.Err()
		}
	}
}

type progressPoint struct {
	At   time.Time
	Done int // users reached: done, waiting, failed or skipped
}

// interactiveChanges has one of users change their email every
// interactiveEvery (the first after half of it), in turn, until ctx ends.
func (r *run) interactiveChanges(ctx context.Context, users []*user) []interactiveSample {
	var out []interactiveSample
	wait := interactiveEvery / 2
	for i := 0; ; i++ {
		sleepCtx(ctx, wait)
		if ctx.Err() != nil {
			return out
		}
		u := users[i%len(users)]
		email := u.nextEmail("m")
		s := interactiveSample{At: time.Now()}
		resp, _, err := u.client.ExecuteCommandWithTeam(context.WithoutCancel(ctx), r.st.Bed.Channel.Id, r.st.Bed.Team.Id, "/account email "+email)
		s.Ms = float64(time.Since(s.At)) / float64(time.Millisecond)
		switch {
		case err != nil:
			s.Outcome, s.Err = "error", err.Error()
		case strings.Contains(resp.Text, "in Mattermost and in Zulip"):
			s.Outcome = "done"
			u.email = email
		case strings.Contains(resp.Text, "direct message"):
			s.Outcome = "queued" // goes on by itself; checked at the end
			u.email = email
		default:
			s.Outcome, s.Err = "error", firstLine(resp.Text)
		}
		if s.Err != "" {
			r.logf("bench: migration: interactive change: %s", s.Err)
		}
		out = append(out, s)
		wait = interactiveEvery - time.Duration(s.Ms)*time.Millisecond
	}
}

// settleInteractive checks the interactive users, giving a queued change
// up to two minutes to end.
func (r *run) settleInteractive(ctx context.Context, users []*user) (lost, mismatched int, err error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lost, mismatched, err = verify(ctx, r.st, users)
		if err != nil || lost+mismatched == 0 || time.Now().After(deadline) {
			return lost, mismatched, err
		}
		sleepCtx(ctx, time.Second)
	}
}

// countRequests sorts the Zulip requests received from from to to. The
// bot's own account is "other": the plugin's periodic check of what Zulip
// lets it do (GET /users/me, a harmless PATCH of its own address).
func countRequests(st *stack.Stack, from, to time.Time, inters []*user) *requestCounts {
	c := &requestCounts{otherPaths: map[string]int{}, patchesPerUser: map[string]int{}}
	interIDs := map[string]bool{}
	for _, u := range inters {
		interIDs[strconv.Itoa(u.zulipID)] = true
	}
	interPrefix := interactiveName + "-"
	botID := ""
	if bot, ok := st.Zulip.UserByEmail(stack.BotEmail); ok {
		botID = strconv.Itoa(bot.ID)
	}
	c.buckets = make([][kindCount + 1]int, int(to.Sub(from)/bucketWidth)+1)
	for _, q := range st.Zulip.Requests() {
		if q.At.Before(from) || q.At.After(to) || q.UserAgent == benchUserAgent {
			continue
		}
		var k requestKind
		target := strings.ToLower(q.Target)
		switch {
		case eventPath(q.Path):
			k = kindEvents
		case q.Target != "" && (interIDs[q.Target] || strings.HasPrefix(target, interPrefix)):
			k = kindInteractive
		case q.Method == http.MethodGet && q.Path == "/api/v1/users":
			k = kindList
		case q.Method == http.MethodPatch && strings.HasPrefix(q.Path, "/api/v1/users/") && q.Target != botID:
			k = kindPatch
		default:
			k = kindOther
			c.otherPaths[q.Method+" "+q.Path]++
		}
		c.log = append(c.log, loggedRequest{q: q, kind: k})
		b := &c.buckets[int(q.At.Sub(from)/bucketWidth)]
		if q.Status == http.StatusTooManyRequests {
			c.refused[k]++
			b[kindCount]++
			continue
		}
		c.allowed[k]++
		b[k]++
		if k == kindPatch {
			c.patchesPerUser[q.Target]++
			if c.firstPatch.IsZero() {
				c.firstPatch = q.At
			}
			if q.Done.After(c.lastPatch) {
				c.lastPatch = q.Done
			}
		}
	}
	return c
}

// loggedRequest is one request of the run, for migration-requests.csv.
type loggedRequest struct {
	q    zuliptest.Request
	kind requestKind
}

// writeRequests writes every request of the run (never a key: the
// emulator does not record them) to migration-requests.csv.
func writeRequests(path string, from time.Time, c *requestCounts) error {
	ms := func(t time.Time) string {
		return strconv.FormatFloat(float64(t.Sub(from))/float64(time.Millisecond), 'f', 1, 64)
	}
	return writeCSV(path, []string{"at_ms", "done_ms", "method", "path", "target", "status", "kind"}, func(w *csv.Writer) error {
		for _, l := range c.log {
			if err := w.Write([]string{ms(l.q.At), ms(l.q.Done), l.q.Method, l.q.Path, l.q.Target, strconv.Itoa(l.q.Status), kindNames[l.kind]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeBuckets writes the requests by kind per bucketWidth, and the users
// reached, to migration.csv.
func writeBuckets(path string, from time.Time, c *requestCounts, progress []progressPoint) error {
	header := []string{"second"}
	for _, k := range kindNames {
		header = append(header, k)
	}
	header = append(header, "429", "users reached")
	return writeCSV(path, header, func(w *csv.Writer) error {
		for i, b := range c.buckets {
			row := []string{strconv.Itoa(i * int(bucketWidth/time.Second))}
			for _, v := range b {
				row = append(row, strconv.Itoa(v))
			}
			reached := 0
			for _, p := range progress {
				if p.At.Sub(from) <= time.Duration(i+1)*bucketWidth {
					reached = p.Done
				}
			}
			row = append(row, strconv.Itoa(reached))
			if err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// logMigrationLines logs the plugin's lines about the migration that are
// not its progress (a batch that could not go on, Zulip out of reach).
func (r *run) logMigrationLines(log *serverLog) {
	lines, err := log.next()
	if err != nil {
		r.logf("bench: migration: reading the server log: %v", err)
		return
	}
	seen := map[string]int{}
	for _, l := range lines {
		m := strings.ToLower(l.Msg)
		if strings.Contains(m, "could not") || strings.Contains(m, "waits for zulip") || strings.Contains(m, "rate limit") {
			seen[l.Msg]++
		}
	}
	for msg, k := range seen {
		r.logf("bench: migration: the plugin logged %d× %q", k, msg)
	}
}

// report adds the run's row, metrics and chart. The theoretical minimum is
// the requests the run needs (a PATCH per user, a list per 100 users) at
// Zulip's rate; the budget used is the bot's allowed requests over the run
// time at that rate (above 100% is possible: a budget whole at the start
// lets 200 requests go at once).
func (r *run) report(n int, runTime time.Duration, c *requestCounts, samples []interactiveSample, m migrationAnswer, lost, mismatched int, peakRSS int64) {
	needed := n + (n+migrationListUsers-1)/migrationListUsers
	perSecond := float64(zulipDefaultRate) / zulipDefaultWindow.Seconds()
	minimum := float64(needed) / perSecond
	// A budget whole at the start lets its first 200 requests go at once.
	minimumWhole := math.Max(float64(needed-zulipDefaultRate), 0) / perSecond
	migrationSent := c.total(true, kindPatch, kindList) + c.total(false, kindPatch, kindList)
	perUser := float64(migrationSent) / float64(n)
	allAllowed := c.total(true, kindPatch, kindList, kindEvents, kindInteractive, kindOther)
	budget := runTime.Seconds() * perSecond
	share := 100 * float64(allAllowed) / budget
	ownShare := 100 * float64(c.total(true, kindPatch, kindList)) / budget
	refused := c.total(false, kindPatch, kindList, kindEvents, kindInteractive, kindOther)
	twice := 0
	for _, k := range c.patchesPerUser {
		if k > 1 {
			twice++
		}
	}
	// What bounds the run: pauses between the migration's PATCHes (the
	// job holding back for the budget), lists beyond one per 100 users (and
	// the start's plan), the event follower's polls per PATCH.
	var gaps time.Duration
	var prev time.Time
	for _, l := range c.log {
		if l.kind != kindPatch || l.q.Status == http.StatusTooManyRequests {
			continue
		}
		if !prev.IsZero() && l.q.At.Sub(prev) > 3*time.Second {
			gaps += l.q.At.Sub(prev)
		}
		prev = l.q.At
	}
	extraLists := c.allowed[kindList] + c.refused[kindList] - (needed - n) - 1
	var ms []float64 // of the changes that went through (done or queued)
	queued, failed := 0, 0
	for i, s := range samples {
		switch s.Outcome {
		case "queued":
			queued++
		case "error":
			failed++
		}
		if s.Outcome != "error" {
			ms = append(ms, s.Ms)
		}
		r.samples = append(r.samples, sample{Phase: fmt.Sprintf("migration-%d", n), Path: "interactive-" + s.Outcome, Seq: i, Ms: s.Ms, Err: s.Err})
	}
	d := summarise(ms)
	p := m.Progress
	fmt.Fprintf(&r.migrations, "| users | Zulip limit | run s | theoretical minimum s (whole budget at start) | run / minimum | Zulip requests: PATCH + lists (+ events, interactive, other) | per user | budget used: all of the bot's requests (migration's) | 429s | interactive /account email p50 ms | max ms | done / failed / skipped / waiting / left | not equal after |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&r.migrations, "| %d | %d/min | %.1f | %.1f (%.1f) | %.2f | %d + %d (+ %d, %d, %d) | %.3f | %.1f%% (%.1f%%) | %d | %.1f | %.1f | %d / %d / %d / %d / %d | %d |\n",
		n, zulipDefaultRate, runTime.Seconds(), minimum, minimumWhole, runTime.Seconds()/minimum,
		c.allowed[kindPatch], c.allowed[kindList], c.allowed[kindEvents], c.allowed[kindInteractive], c.allowed[kindOther],
		perUser, share, ownShare, refused, d.P50, d.Max, p.Done, p.Failed, p.Skipped, p.Waiting, p.Left, lost+mismatched)
	for k := range kindCount {
		if c.refused[k] > 0 {
			r.logf("bench: migration: 429s on %s: %d", kindNames[k], c.refused[k])
		}
	}
	if len(c.otherPaths) > 0 {
		r.logf("bench: migration: other Zulip requests: %v", c.otherPaths)
	}
	tag := fmt.Sprintf("migration of %d users, Zulip %d/min", n, zulipDefaultRate)
	r.add(info("run time (started to done), "+tag, runTime.Seconds(), "s"),
		info(fmt.Sprintf("theoretical minimum (%d requests at %d/min), %s", needed, zulipDefaultRate, tag), minimum, "s"),
		info("theoretical minimum, budget whole at start, "+tag, minimumWhole, "s"),
		info("run time / theoretical minimum, "+tag, runTime.Seconds()/minimum, "x"),
		info("first to last migration PATCH, "+tag, c.lastPatch.Sub(c.firstPatch).Seconds(), "s"),
		atMost("Zulip requests per user (PATCH + GET /users, 429s included), "+tag, perUser, "", migrationRequestsPerUser),
		info("Zulip GET /users (batch lists and the start's plan), "+tag, float64(c.allowed[kindList]), ""),
		info("Zulip event requests (register, polls), "+tag, float64(c.allowed[kindEvents]), ""),
		info("event requests per migration PATCH, "+tag, float64(c.allowed[kindEvents])/float64(max(c.allowed[kindPatch], 1)), ""),
		info("GET /users beyond one per 100 users and the start's, "+tag, float64(extraLists), ""),
		info("pauses over 3 s between the migration's PATCHes (total), "+tag, gaps.Seconds(), "s"),
		atLeast("share of the budget used (all the bot's requests), "+tag, share, "%", migrationBudgetShare),
		info("share of the budget used (migration's PATCH + lists), "+tag, ownShare, "%"),
		info("Zulip answers 429 (all the bot's requests), "+tag, float64(refused), ""),
		info("Zulip answers 429 to the migration's PATCH and lists, "+tag, float64(c.total(false, kindPatch, kindList)), ""),
		atMost("users PATCHed twice in Zulip, "+tag, float64(twice), "", 0),
		info(fmt.Sprintf("interactive /account email p50 (%d changes, %d queued), %s", d.N, queued, tag), d.P50, "ms"),
		info("interactive /account email max, "+tag, d.Max, "ms"),
		info("interactive /account email queued (Zulip asked to wait), "+tag, float64(queued), ""),
		atMost("interactive /account email refused or failed, "+tag, float64(failed), "", 0),
		atMost("users not done by the migration, "+tag, float64(n-p.Done), "", 0),
		atMost("users not equal in both systems after, "+tag, float64(lost+mismatched), "", 0),
		info("plugin RSS during the run (peak), "+tag, float64(peakRSS)/(1<<20), "MiB"))
	r.panels = append(r.panels, chart.Panel{
		Title:  fmt.Sprintf("Interactive /account email during a migration of %d users (Zulip %d requests/min)", n, zulipDefaultRate),
		Series: []chart.Series{{Name: "/account email", Millis: ms}},
	})
}

// migrationPlan plans (only) a migration of planN linked users and times
// the plan, with the plugin's memory before, at its peak and after.
func (r *run) migrationPlan(ctx context.Context, db *psql, planN int, tag string) error {
	from, to := "big-"+tag+".example", "new-big-"+tag+".example"
	pop := &population{naming: naming{idPrefix: "planbench", namePrefix: "plan-", domain: from}}
	r.logf("bench: migration: %d users at %s in Mattermost's database and in Zulip...", planN, from)
	if err := pop.grow(ctx, r.st, db, planN); err != nil {
		return err
	}
	took, linked, already, err := linkAllTimed(ctx, r.st)
	if err != nil {
		return err
	}
	r.logf("bench: migration: /account link-all linked %d (already linked %d) in %s", linked, already, took.Round(time.Millisecond))
	sleepCtx(ctx, 5*time.Second) // the process settles after link-all
	pid, err := pluginPid(r.st)
	if err != nil {
		return err
	}
	before, err := rssBytes(pid)
	if err != nil {
		return err
	}
	rss := sampleRSS(r.st)
	start := time.Now()
	plan, err := migrationAPI(ctx, r.st, http.MethodPost, "", map[string]string{"from": from, "to": to}, http.StatusCreated)
	planTime := time.Since(start)
	peak := rss.Max()
	if err != nil {
		return err
	}
	after, err := rssBytes(pid)
	if err != nil {
		return err
	}
	sleepCtx(ctx, 10*time.Second)
	later, err := rssBytes(pid)
	if err != nil {
		return err
	}
	r.logf("bench: migration: planned %d users in %s (RSS %.1f -> peak %.1f -> %.1f MiB)", plan.ToChange, planTime.Round(time.Millisecond),
		float64(before)/(1<<20), float64(peak)/(1<<20), float64(after)/(1<<20))
	// The plan stays unstarted: cancel it, as an admin would.
	if _, err := migrationAPI(ctx, r.st, http.MethodPost, "/"+plan.ID+"/cancel", nil, http.StatusOK); err != nil {
		return err
	}
	fmt.Fprintf(&r.migrationPlans, "| users planned | to change | POST /migrations s | plugin RSS before MiB | peak MiB | after MiB | 10 s after MiB |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&r.migrationPlans, "| %d | %d | %.2f | %.1f | %.1f | %.1f | %.1f |\n", planN, plan.ToChange, planTime.Seconds(),
		float64(before)/(1<<20), float64(peak)/(1<<20), float64(after)/(1<<20), float64(later)/(1<<20))
	tag2 := fmt.Sprintf("plan of %d users", planN)
	r.add(info("POST /migrations (plan only), "+tag2, planTime.Seconds(), "s"),
		atMost("users left out of the plan, "+tag2, float64(planN-plan.ToChange), "", 0),
		info("plugin RSS before the plan, "+tag2, float64(before)/(1<<20), "MiB"),
		info("plugin RSS during the plan (peak), "+tag2, float64(peak)/(1<<20), "MiB"),
		info("plugin RSS after the plan, "+tag2, float64(after)/(1<<20), "MiB"))
	return nil
}

func randomTag() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
