package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// record is what the profile needs of a change record.
type record struct {
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Steps     []struct {
		Name string    `json:"name"`
		At   time.Time `json:"at"`
	} `json:"steps"`
}

// profileSteps reads the newest done records through the admin API and
// returns, per stretch of the flow, the median time it took: the records
// time-stamp each step, so they show where the plugin's time goes.
func profileSteps(ctx context.Context, st *stack.Stack) ([]string, map[string]float64, error) {
	url := st.Bed.SiteURL + "/plugins/" + stack.PluginID + "/api/v1/changes?state=done&per_page=200"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+st.Bed.Admin.AuthToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET changes: %s", resp.Status)
	}
	var body struct {
		Changes []record `json:"changes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, nil, err
	}
	order := []string{
		"start -> validate (session, lock, user, open change, limits)",
		"validate -> check_mattermost (address free)",
		"check_mattermost -> check_zulip (link, Zulip lookup)",
		"check_zulip -> apply_mattermost (write-ahead record, UpdateUser, read back)",
		"apply_mattermost -> sync_zulip (Zulip PATCH)",
		"sync_zulip -> saved (final record; stamped before the save)",
	}
	samples := make([][]float64, len(order))
	for _, c := range body.Changes {
		if len(c.Steps) != 5 {
			continue
		}
		points := []time.Time{c.CreatedAt}
		for _, s := range c.Steps {
			points = append(points, s.At)
		}
		points = append(points, c.UpdatedAt)
		for i := range order {
			samples[i] = append(samples[i], float64(points[i+1].Sub(points[i]))/float64(time.Millisecond))
		}
	}
	out := map[string]float64{}
	for i, name := range order {
		out[name] = summarise(samples[i]).P50
	}
	return order, out, nil
}
