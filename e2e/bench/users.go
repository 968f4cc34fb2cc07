package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// user is one account in both systems: a Mattermost user (with its own
// session for the plugin's path) and the Zulip account of the same person.
type user struct {
	id      string
	name    string
	zulipID int
	client  *model.Client4 // the user's own session; nil for baseline users
	email   string         // what both systems should hold now
	changes int
}

// httpClient is shared by every Mattermost client of the bench, with
// enough idle connections for 200 users at once.
var httpClient = &http.Client{
	Timeout: 2 * time.Minute,
	Transport: &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	},
}

// createUsers makes n users named prefix-i in Mattermost and in Zulip with
// the same address. With login, each gets its own session (as the web app
// has), for the plugin's path; baseline users are changed by the admin.
func createUsers(ctx context.Context, st *stack.Stack, prefix string, n int, login bool) ([]*user, error) {
	users := make([]*user, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := createUser(ctx, st, fmt.Sprintf("%s-%03d", prefix, i), login)
			if err != nil {
				errs <- err
				return
			}
			users[i] = u
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return users, nil
}

func createUser(ctx context.Context, st *stack.Stack, name string, login bool) (*user, error) {
	email := name + "@example.com"
	zu := st.Zulip.AddUser(zuliptest.User{Email: email, FullName: name})
	u := &user{name: name, zulipID: zu.ID, email: email}
	if login {
		mu, c, err := st.Bed.CreateUser(ctx, name, email)
		if err != nil {
			return nil, err
		}
		c.HTTPClient = httpClient
		u.id, u.client = mu.Id, c
		return u, nil
	}
	mu, _, err := st.Bed.Admin.CreateUser(ctx, &model.User{
		Username: name, Email: email, Password: "Pw-" + name + "-Aa1!",
		EmailVerified: true, DisableWelcomeEmail: true,
	})
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", name, err)
	}
	u.id = mu.Id
	return u, nil
}

// linkAll links every user to their Zulip account as an admin would, with
// /account link-all, so that every measured change is a linked user's.
func linkAll(ctx context.Context, st *stack.Stack, want int) error {
	resp, err := st.Bed.Execute(ctx, st.Bed.Admin, "/account link-all")
	if err != nil {
		return err
	}
	var linked int
	if _, err := fmt.Sscanf(resp.Text, "Linked %d", &linked); err != nil || linked < want {
		return fmt.Errorf("/account link-all linked fewer than the %d users: %s", want, firstLine(resp.Text))
	}
	return nil
}

// nextEmail is the user's next address.
func (u *user) nextEmail(tag string) string {
	u.changes++
	return fmt.Sprintf("%s-%s%d@example.com", u.name, tag, u.changes)
}

// verify compares every user's address in both systems with what it should
// be: lost counts users where a system does not hold the expected address,
// mismatched those where the two systems differ.
func verify(ctx context.Context, st *stack.Stack, users []*user) (lost, mismatched int, err error) {
	for _, u := range users {
		mu, _, err := st.Bed.Admin.GetUser(ctx, u.id, "")
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s in Mattermost: %w", u.name, err)
		}
		zu, ok := st.Zulip.User(u.zulipID)
		if !ok {
			return 0, 0, fmt.Errorf("%s is missing in Zulip", u.name)
		}
		if !strings.EqualFold(mu.Email, zu.Email) {
			mismatched++
		}
		if !strings.EqualFold(mu.Email, u.email) || !strings.EqualFold(zu.Email, u.email) {
			lost++
		}
	}
	return lost, mismatched, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
