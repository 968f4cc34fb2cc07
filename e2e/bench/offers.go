package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// offerWait bounds the wait for one offer.
const offerWait = time.Minute

// offer is one timed offer: from the change in Zulip to the offer on the
// user's websocket (Took), and to the emulator's answer to the plugin's
// events poll that carried the change (Delivered, 0 if not seen); the
// plugin's other Zulip requests meanwhile.
type offer struct {
	Took, Delivered time.Duration
	ZulipRequests   int
}

// offerLatency changes the user's address in Zulip's own settings (the
// emulator, with the events Zulip sends) and times it until the bot's
// offer reaches the user: the "posted" event of the bot's direct message
// naming the new address on the user's own websocket. Then it puts the
// address back in Zulip, as the pair was.
func offerLatency(ctx context.Context, st *stack.Stack, botID string, u *user, password, tag string) (offer, error) {
	c, _, err := st.Bed.Login(ctx, u.name, password)
	if err != nil {
		return offer{}, err
	}
	c.HTTPClient = httpClient
	ws, err := model.NewWebSocketClient4("ws"+strings.TrimPrefix(st.Bed.SiteURL, "http"), c.AuthToken)
	if err != nil {
		return offer{}, fmt.Errorf("websocket of %s: %w", u.name, err)
	}
	defer ws.Close()
	ws.Listen()
	if err := awaitEvent(ctx, ws, 10*time.Second, func(ev *model.WebSocketEvent) bool { return ev.EventType() == model.WebsocketEventHello }); err != nil {
		return offer{}, fmt.Errorf("websocket of %s: no hello: %w", u.name, err)
	}

	changed := fmt.Sprintf("%s-%s@example.com", u.name, tag)
	start := time.Now()
	st.Zulip.ChangeEmailInSettings(u.zulipID, changed)
	err = awaitEvent(ctx, ws, offerWait, func(ev *model.WebSocketEvent) bool {
		if ev.EventType() != model.WebsocketEventPosted {
			return false
		}
		raw, _ := ev.GetData()["post"].(string)
		var p model.Post
		if json.Unmarshal([]byte(raw), &p) != nil {
			return false
		}
		return p.UserId == botID && strings.Contains(p.Message, changed)
	})
	end := time.Now()
	o := offer{Took: end.Sub(start)}
	st.Zulip.ChangeEmailInSettings(u.zulipID, u.email) // as it was: both systems agree again
	if err != nil {
		return o, fmt.Errorf("no offer of %s to %s: %w", changed, u.name, err)
	}
	for _, q := range st.Zulip.Requests() {
		switch {
		case q.UserAgent == benchUserAgent || q.Done.Before(start) || q.At.After(end):
		case q.Method == http.MethodGet && q.Path == "/api/v1/events":
			if d := q.Done.Sub(start); o.Delivered == 0 || d < o.Delivered {
				o.Delivered = d
			}
		case !eventPath(q.Path):
			o.ZulipRequests++
		}
	}
	return o, nil
}

// awaitEvent waits for an event that satisfies match.
func awaitEvent(ctx context.Context, ws *model.WebSocketClient, within time.Duration, match func(*model.WebSocketEvent) bool) error {
	t := time.NewTimer(within)
	defer t.Stop()
	for {
		select {
		case ev, ok := <-ws.EventChannel:
			if !ok {
				if ws.ListenError != nil {
					return ws.ListenError
				}
				return fmt.Errorf("the websocket closed")
			}
			if match(ev) {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("nothing within %s", within)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
