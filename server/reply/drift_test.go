package reply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Every kind of the drift report has a name and a text saying what it
// means and what to do; no two kinds share them.
func TestEveryDriftKindHasAText(t *testing.T) {
	labels, texts := map[string]account.DriftKind{}, map[string]account.DriftKind{}
	for _, k := range account.DriftKinds() {
		label, text := DriftLabel(k), DriftText(k)
		if _, ok := driftTexts[k]; !ok || label == "" || label == string(k) {
			t.Errorf("%s has no name", k)
		}
		if i := strings.Index(text, " What to do: "); i <= 0 || len(text) < i+len(" What to do: ")+10 {
			t.Errorf("%s: the text does not say what it means, then what to do: %q", k, text)
		}
		if other, ok := labels[label]; ok {
			t.Errorf("%s and %s are both named %q", k, other, label)
		}
		if other, ok := texts[text]; ok {
			t.Errorf("%s and %s share a text", k, other)
		}
		labels[label], texts[text] = k, k
	}
	if len(driftTexts) != len(account.DriftKinds()) {
		t.Errorf("%d texts for %d kinds", len(driftTexts), len(account.DriftKinds()))
	}
}

func TestDriftReply(t *testing.T) {
	const csv, js = "https://chat.example.org/plugins/account-sync/api/v1/drift.csv", "https://chat.example.org/plugins/account-sync/api/v1/drift"
	rep := account.DriftReport{
		MattermostUsers: 3, ZulipUsers: 4,
		Counts: map[account.DriftKind]int{account.DriftMattermostChanged: 1, account.DriftZulipInactive: 1, account.DriftNoMattermostUser: 1},
		Rows: []account.DriftRow{
			{UserID: "u2", Username: "bob", Email: "bob.new@example.org", ZulipUserID: 11, ZulipEmail: "bob@example.org", AgreedEmail: "bob@example.org", Kind: account.DriftMattermostChanged},
			{UserID: "u8", Username: "gus`", Email: "[x](http://evil)@example.org", ZulipUserID: 99, AgreedEmail: "gus@example.org", Kind: account.DriftZulipInactive},
			{ZulipUserID: 23, ZulipEmail: "oscar@example.org", Kind: account.DriftNoMattermostUser},
		},
	}
	assertWords(t, Drift(rep, csv, js), []string{
		"compared 3 Mattermost users with 4 Zulip accounts. 3 pairs to look at:",
		"\n- **changed in Mattermost elsewhere: 1.** " + DriftText(account.DriftMattermostChanged),
		"\n- **linked Zulip account deactivated or deleted: 1.** ",
		"\n- **no Mattermost user: 1.** ",
		"The pairs:\n",
		"\n- @bob: Mattermost `bob.new@example.org`, Zulip account 11 `bob@example.org`, agreed `bob@example.org`: changed in Mattermost elsewhere",
		"\n- @gus: Mattermost `[x](http://evil)@example.org`, Zulip account 99 (not in Zulip's list), agreed `gus@example.org`: linked Zulip account deactivated or deleted",
		"\n- Zulip account 23 `oscar@example.org`: no Mattermost user",
		"The full report: " + csv + " (CSV), or " + js + " (JSON, by pages). Nothing was changed.",
	}, []string{"both changed", "The first"})

	// Counts in the order of DriftKinds, not of the map.
	every := account.DriftReport{Counts: map[account.DriftKind]int{}}
	for _, k := range account.DriftKinds() {
		every.Counts[k] = 1
		every.Rows = append(every.Rows, account.DriftRow{ZulipUserID: 1, Kind: k})
	}
	text := Drift(every, csv, js)
	last := -1
	for _, k := range account.DriftKinds() {
		i := strings.Index(text, "\n- **"+DriftLabel(k)+": 1.** "+DriftText(k))
		if i <= last {
			t.Errorf("%s counted out of order, or not at all:\n%s", k, text)
		}
		last = i
	}

	many := account.DriftReport{MattermostUsers: 30, ZulipUsers: 0, Counts: map[account.DriftKind]int{account.DriftNoZulipAccount: 25}}
	for i := range 25 {
		many.Rows = append(many.Rows, account.DriftRow{UserID: fmt.Sprint("u", i), Username: fmt.Sprint("user", i), Email: fmt.Sprint("user", i, "@example.org"), Kind: account.DriftNoZulipAccount})
	}
	text = Drift(many, csv, js)
	assertWords(t, text, []string{"The first 20 of 25:", "@user19:", "no Zulip account: 25."}, []string{"@user20:", "The pairs"})
	if n := strings.Count(text, "\n- @"); n != MaxDriftLines {
		t.Errorf("%d rows shown, want %d", n, MaxDriftLines)
	}

	assertWords(t, Drift(account.DriftReport{MattermostUsers: 1, ZulipUsers: 1, Counts: map[account.DriftKind]int{}}, csv, js),
		[]string{"compared 1 Mattermost user with 1 Zulip account. Both systems agree: nothing to report."}, []string{csv})
}
