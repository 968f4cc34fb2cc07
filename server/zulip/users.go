package zulip

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
)

// User is the part of a Zulip user the plugin uses.
type User struct {
	ID            int    `json:"user_id"`
	Email         string `json:"email"`
	DeliveryEmail string `json:"delivery_email"`
	FullName      string `json:"full_name"`
	Role          int    `json:"role"`
	IsActive      bool   `json:"is_active"`
	IsBot         bool   `json:"is_bot"`
}

// RealAddress is the user's delivery_email only: empty when Zulip hid it
// from the bot. Use it wherever the address must be the user's own (proving
// ownership, comparing with Mattermost); Email may be the API address
// user{ID}@{host}, which reaches no one.
func (u User) RealAddress() string { return u.DeliveryEmail }

// Zulip's roles that may administer users.
const (
	RoleOwner = 100
	RoleAdmin = 200
)

// GetUser looks a user up by email (case-insensitive on Zulip's side, and
// subject to the user's email visibility).
func (c *Client) GetUser(ctx context.Context, email string) (User, error) {
	return c.getUser(ctx, "users/"+url.PathEscape(email))
}

// GetUserByID looks a user up by Zulip user ID, whatever the user's email
// visibility.
func (c *Client) GetUserByID(ctx context.Context, id int) (User, error) {
	return c.getUser(ctx, "users/"+strconv.Itoa(id))
}

// getUser is GET path, answered with {"user": {...}}.
func (c *Client) getUser(ctx context.Context, path string) (User, error) {
	req, err := c.newRequest(ctx, "GET", path, nil, true)
	if err != nil {
		return User{}, err
	}
	var out struct {
		User User `json:"user"`
	}
	if err := c.do(req, &out); err != nil {
		return User{}, err
	}
	if out.User.ID == 0 {
		return User{}, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: no user in the answer", ErrMalformedResponse)}
	}
	return out.User, nil
}

// Users returns every member of the organisation, deactivated ones and bots
// included (GET /users). DeliveryEmail is empty for those whose address Zulip
// hides from the bot.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	req, err := c.newRequest(ctx, "GET", "users", nil, true)
	if err != nil {
		return nil, err
	}
	var out struct {
		Members *[]User `json:"members"`
	}
	if err := c.doLimit(req, &out, maxMembersBytes); err != nil {
		return nil, err
	}
	if out.Members == nil {
		return nil, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: no members in the answer", ErrMalformedResponse)}
	}
	return *out.Members, nil
}

// Me returns the bot's own account.
func (c *Client) Me(ctx context.Context) (User, error) {
	req, err := c.newRequest(ctx, "GET", "users/me", nil, true)
	if err != nil {
		return User{}, err
	}
	var u User
	if err := c.do(req, &u); err != nil {
		return User{}, err
	}
	return u, nil
}

// ChangeEmailByID asks Zulip to change the address of the user with Zulip
// user ID id to newEmail (PATCH /users/{id} with the form field new_email),
// immune to email visibility and to addresses holding "/". Passing the
// user's exact current address as newEmail is a harmless probe: Zulip runs
// its permission checks and changes nothing. Servers below feature level
// 313 ignore new_email there: ErrEmailIgnored, as is any success that lists
// new_email among the ignored parameters.
func (c *Client) ChangeEmailByID(ctx context.Context, id int, newEmail string) error {
	form := url.Values{"new_email": {newEmail}}
	req, err := c.newRequest(ctx, "PATCH", "users/"+strconv.Itoa(id), form, true)
	if err != nil {
		return err
	}
	var out struct {
		Ignored []string `json:"ignored_parameters_unsupported"`
	}
	if err := c.do(req, &out); err != nil {
		return err
	}
	if slices.Contains(out.Ignored, "new_email") {
		return ErrEmailIgnored
	}
	return nil
}
