package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// Held: Zulip requests of every kind from many goroutines (as the
// side-by-side checks, the jobs and the commands make them), audited
// outcomes and scrapes at the same time: no data race (go test -race), and
// no label carries an address, a user id or the API key.
func TestReview3MetricsUnderConcurrency(t *testing.T) {
	zsrv := newMetricsZulip(t)
	p, _ := newTestPlugin(t, configuration{ZulipSyncEnabled: true, ZulipURL: zsrv.URL + "/", ZulipBotEmail: "bot@zulip.example.com", ZulipAPIKey: metricsTestKey, RecordRetentionDays: "10"})
	allowLogs(p)
	p.store = store.New(&pluginapi.MemoryStore{})
	p.metrics = newMetrics(p.store.OpenChanges, p.zulipBudget, &p.client.Log)
	p.auditor = newAuditor(&p.client.Log, "9.9.0", nil)
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	zc, _ := p.getZulip()
	audit := p.auditorOrNone()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				addr := fmt.Sprintf("user%d.%d@example.org", i, j)
				_, _ = zc.GetUser(ctx, addr)
				_, _ = zc.GetUserByID(ctx, 100+i)
				_ = zc.ChangeEmailByID(ctx, 7, addr)
				audit.Audit(account.AuditEvent{ChangeID: "c" + addr, UserID: "uid-" + addr, OldEmail: addr, NewEmail: addr, Outcome: string(account.StateDone), Origin: account.OriginMigration, Success: true})
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				_ = scrape(t, p)
			}
		}()
	}
	wg.Wait()
	body := scrape(t, p)
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, "account_sync_") {
			continue
		}
		if strings.Contains(line, "@") || strings.Contains(line, metricsTestKey) || strings.Contains(line, "uid-") || strings.Contains(line, "/100") {
			t.Errorf("a label leaks: %s", line)
		}
	}
}
