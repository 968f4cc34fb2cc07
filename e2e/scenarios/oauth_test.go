package scenarios

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// Scenario 8: an OAuth 2.0 app with a user's token gets 403 changing the
// user's email through the REST API, and /account email refuses it too
// unless an admin turned on "Allow OAuth 2.0 apps to change emails".
func TestOAuthSessions(t *testing.T) {
	p := newPerson(t)
	token := oauthToken(t, p)
	oauth := w.Bed.NewClient()
	oauth.SetOAuthToken(token)

	newEmail := newAddress()
	_, resp, err := oauth.PatchUser(ctxFor(t), p.user.Id, &model.UserPatch{Email: model.NewPointer(newEmail)})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("REST email change by the OAuth app: status %v err %v, want 403", statusOf(resp), err)
	}
	assertUnchanged(t, p)

	// Refused by default, in both systems.
	reply := run(t, oauth, "/account email "+newEmail)
	assertContains(t, reply, "OAuth 2.0 apps", "Allow OAuth 2.0 apps to change emails", "Nothing was changed")
	assertUnchanged(t, p)

	// The user's own session is not affected.
	own := newAddress()
	assertContains(t, run(t, p.client, "/account email "+own), "Your email is now `"+own+"` in Mattermost and in Zulip")
	assertEmails(t, p, own, own)

	// Allowed once an admin turns the setting on.
	withSettings(t, map[string]any{"AllowOAuthSessions": true})
	reply = run(t, oauth, "/account email "+newEmail)
	assertContains(t, reply, "Your email is now `"+newEmail+"` in Mattermost and in Zulip")
	assertEmails(t, p, newEmail, newEmail)
}

func statusOf(r *model.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// A personal access token is not a signed-in user: Mattermost asks a
// token's holder for the password before an email change, so /account
// refuses tokens, for changes and links, unless the admin allowed them.
func TestPersonalAccessTokens(t *testing.T) {
	withServerConfig(t,
		func(c *model.Config) { c.ServiceSettings.EnableUserAccessTokens = model.NewPointer(true) },
		func(c *model.Config) { c.ServiceSettings.EnableUserAccessTokens = model.NewPointer(false) })
	p := newPerson(t)
	tok, _, err := w.Bed.Admin.CreateUserAccessToken(ctxFor(t), p.user.Id, "account sync test", 0)
	if err != nil {
		t.Fatalf("creating a personal access token: %v", err)
	}
	c := w.Bed.NewClient()
	c.SetToken(tok.Token)

	newEmail := newAddress()
	assertContains(t, run(t, c, "/account email "+newEmail), "personal access tokens", "Nothing was changed")
	assertUnchanged(t, p)
	w.Zulip.ResetDirectMessages()
	assertContains(t, run(t, c, "/account link "+p.email), "personal access tokens")
	if n := len(w.Zulip.DirectMessages()); n != 0 {
		t.Errorf("the bot sent %d link codes for a token's request", n)
	}

	withSettings(t, map[string]any{"AllowOAuthSessions": true})
	assertContains(t, run(t, c, "/account email "+newEmail), "Your email is now `"+newEmail+"` in Mattermost and in Zulip")
	assertEmails(t, p, newEmail, newEmail)
}

// oauthToken registers a trusted OAuth 2.0 app, as an account portal would,
// and runs the authorization-code flow as the user: the access token.
func oauthToken(t *testing.T, p person) string {
	t.Helper()
	callback := "http://127.0.0.1:1/callback"
	app, _, err := w.Bed.Admin.CreateOAuthApp(ctxFor(t), &model.OAuthApp{
		Name: "Account portal " + randomName(""), Description: "the organisation's portal",
		CallbackUrls: []string{callback}, Homepage: "http://127.0.0.1:1", IsTrusted: true,
	})
	if err != nil {
		t.Fatalf("registering the OAuth app: %v", err)
	}
	redirect, _, err := p.client.AuthorizeOAuthApp(ctxFor(t), &model.AuthorizeRequest{
		ResponseType: model.AuthCodeResponseType, ClientId: app.Id, RedirectURI: callback, State: "s1",
	})
	if err != nil {
		t.Fatalf("authorizing the app: %v", err)
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("no code in the redirect %q (%v)", redirect, err)
	}
	token, _, err := w.Bed.NewClient().GetOAuthAccessToken(ctxFor(t), url.Values{
		"grant_type": {model.AccessTokenGrantType}, "client_id": {app.Id}, "client_secret": {app.ClientSecret},
		"code": {u.Query().Get("code")}, "redirect_uri": {callback},
	})
	if err != nil {
		t.Fatalf("exchanging the code: %v", err)
	}
	return token.AccessToken
}
