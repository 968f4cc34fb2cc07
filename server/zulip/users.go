package zulip

import (
	"context"
	"fmt"
	"net/url"
	"slices"
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

// Address is the user's real address: delivery_email when Zulip shows it,
// else email.
func (u User) Address() string {
	if u.DeliveryEmail != "" {
		return u.DeliveryEmail
	}
	return u.Email
}

// Zulip's roles that may administer users.
const (
	RoleOwner = 100
	RoleAdmin = 200
)

// GetUser looks a user up by email (case-insensitive on Zulip's side, and
// subject to the user's email visibility).
func (c *Client) GetUser(ctx context.Context, email string) (User, error) {
	req, err := c.newRequest(ctx, "GET", "users/"+url.PathEscape(email), nil, true)
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
		return User{}, &UnavailableError{Op: "GET /api/v1/users/{email}", Status: 200, Err: fmt.Errorf("%w: no user in the answer", ErrMalformedResponse)}
	}
	return out.User, nil
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

// ChangeEmail asks Zulip to change the address of the user found by
// current to newEmail (PATCH /users/{email} with the form field new_email).
// Passing the user's exact current address as newEmail is a harmless probe:
// Zulip runs its permission checks and changes nothing.
func (c *Client) ChangeEmail(ctx context.Context, current, newEmail string) error {
	form := url.Values{"new_email": {newEmail}}
	req, err := c.newRequest(ctx, "PATCH", "users/"+url.PathEscape(current), form, true)
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
