package zulip

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// SendDirectMessage sends content (Markdown) to the user with Zulip user ID
// userID as a direct message from the bot, and returns the message's ID.
// The user is addressed by ID: sending by email fails for users whose
// address is hidden from the bot. An *UnavailableError means the message
// may or may not have been sent.
func (c *Client) SendDirectMessage(ctx context.Context, userID int, content string) (int, error) {
	if userID <= 0 {
		return 0, errors.New("zulip: sending a direct message: no recipient user ID")
	}
	form := url.Values{
		"type":    {"direct"},
		"to":      {"[" + strconv.Itoa(userID) + "]"},
		"content": {content},
	}
	req, err := c.newRequest(ctx, "POST", "messages", form, true)
	if err != nil {
		return 0, err
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := c.do(req, &out); err != nil {
		return 0, err
	}
	if out.ID <= 0 {
		return 0, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: no message id in the answer", ErrMalformedResponse)}
	}
	return out.ID, nil
}
