package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Bounds of following Zulip's events.
const (
	eventsIdle       = 5 * time.Second // between looks while sync is off or offers only reported (a few reads of memory)
	eventsRetryFirst = time.Second     // after a failed register or poll, doubling
	eventsRetryMax   = 5 * time.Minute
	eventsScanLimit  = 10 * time.Minute // the scan after a lost queue
	// eventsBurstGap is the least time between two polls after one that
	// brought events: a lone change in Zulip arrives at once, and a burst
	// (a domain migration, a directory's bulk update) costs one poll every
	// few seconds instead of one per change; Zulip keeps the events queued
	// meanwhile.
	eventsBurstGap = 3 * time.Second
)

// eventFollower follows Zulip's real-time events on the one node of a
// cluster that holds its mutex: an address changed in Zulip reaches the
// linked Mattermost user as an offer within seconds. After a lost queue
// (BAD_EVENT_QUEUE_ID, an outage) it registers again and runs a full scan;
// the scheduled scan stays the backstop.
type eventFollower struct {
	p      *Plugin
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	stopPoll context.CancelFunc // ends the poll in progress (interrupt)
}

// interrupt ends the poll in progress: the settings changed, so the
// follower registers with the new client at once (and compares both
// systems for what the old queue may have held), instead of when the old
// long poll ends.
func (f *eventFollower) interrupt() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopPoll != nil {
		f.stopPoll()
	}
}

func (p *Plugin) followZulipEvents() (*eventFollower, error) {
	m, err := cluster.NewMutex(p.API, store.EventsMutexKey)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &eventFollower{p: p, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		if err := m.LockWithContext(ctx); err != nil {
			return // stopped while another node follows
		}
		defer m.Unlock()
		f.run(ctx)
	}()
	return f, nil
}

// Close stops following and waits for the follower to let go.
func (f *eventFollower) Close() error {
	f.cancel()
	<-f.done
	return nil
}

func (f *eventFollower) run(ctx context.Context) {
	var (
		q      *zulip.Queue
		client *zulip.Client
		wait   = eventsRetryFirst
		rescan bool // a new client: compare both systems once registered
	)
	for ctx.Err() == nil {
		c, _ := f.p.getZulip()
		cfg := f.p.getConfiguration()
		if c == nil || !cfg.ZulipSyncEnabled || cfg.reportZulipChanges() {
			// Nothing followed meanwhile: compare both systems once it is
			// followed again (the same client, or a new one).
			rescan = rescan || client != nil
			q = nil
			sleep(ctx, eventsIdle)
			continue
		}
		if c != client { // new settings: a new bot, or a new site
			rescan = rescan || client != nil
			client, q = c, nil
		}
		if q == nil {
			nq, err := client.Register(ctx)
			if err != nil {
				f.p.client.Log.Warn("Account Sync: could not follow Zulip's events; trying again later", "error", err.Error())
				sleep(ctx, wait)
				wait = min(2*wait, eventsRetryMax)
				continue
			}
			q = &nq
			if rescan {
				rescan = false
				f.scan(ctx) // what changed while no queue was followed
			}
		}
		pollCtx, stop := context.WithCancel(ctx)
		f.mu.Lock()
		f.stopPoll = stop
		f.mu.Unlock()
		events, err := client.Events(pollCtx, *q)
		interrupted := pollCtx.Err() != nil
		stop()
		switch {
		case ctx.Err() != nil:
			return
		case interrupted:
			continue // the settings changed
		case lostQueue(err):
			f.p.client.Log.Info("Account Sync: Zulip's event queue was lost; registering again and comparing both systems", "error", err.Error())
			q = nil
			f.scan(ctx)
			// A queue lost again and again (an answer Zulip keeps giving)
			// must not spend the bot's rate limit: back off like any error.
			sleep(ctx, wait)
			wait = min(2*wait, eventsRetryMax)
			continue
		case err != nil:
			sleep(ctx, wait)
			wait = min(2*wait, eventsRetryMax)
			continue
		}
		wait = eventsRetryFirst
		next := q.Advance(events)
		q = &next
		unreadable := false
		for _, ev := range events {
			switch {
			case ev.Kind == zulip.EventUnreadable:
				unreadable = true
			case ev.Kind == zulip.EventUserUpdate && ev.DeliveryEmail != nil && *ev.DeliveryEmail != "":
				f.p.service().ZulipAccountChanged(ctx, ev.UserID, *ev.DeliveryEmail)
			}
		}
		if unreadable {
			f.scan(ctx) // an event it could not read: compare both systems instead
		}
		if len(events) > 0 {
			sleep(ctx, eventsBurstGap)
		}
	}
}

// lostQueue tells an answer after which the queue cannot be polled again:
// it is gone, or its answers cannot be read.
func lostQueue(err error) bool {
	var api *zulip.APIError
	return errors.As(err, &api) || errors.Is(err, zulip.ErrMalformedResponse)
}

func (f *eventFollower) scan(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, eventsScanLimit)
	defer cancel()
	if _, fail := f.p.service().Reconcile(ctx); fail != nil {
		f.p.client.Log.Warn("Account Sync: the scan after a lost event queue failed; the scheduled scan goes on", "code", string(fail.Code))
	}
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
