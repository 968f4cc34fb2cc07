package zulip

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAPIKeyNeverInErrors drives every kind of failure through every call,
// with servers that echo the credentials back wherever they can, and checks
// that no error text holds the key (plain or in the Basic header).
func TestAPIKeyNeverInErrors(t *testing.T) {
	const bot = "bot@zulip.example.com"
	secrets := []string{testKey, base64.StdEncoding.EncodeToString([]byte(bot + ":" + testKey))}
	echo := func(status int, ctype string, body func(auth, key string) string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, key, _ := r.BasicAuth()
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body(r.Header.Get("Authorization"), key))
		}
	}
	failures := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
	}{
		{"redirect with the key in Location", func(w http.ResponseWriter, r *http.Request) {
			_, key, _ := r.BasicAuth()
			w.Header().Set("Location", "https://login.example/?api_key="+key+"&auth="+r.Header.Get("Authorization"))
			w.WriteHeader(http.StatusFound)
		}, 0},
		{"401 echoing the key", echo(401, "application/json", func(_, key string) string {
			return `{"result":"error","msg":"Invalid API key ` + key + `","code":"UNAUTHORIZED"}`
		}), 0},
		{"400 echoing the key", echo(400, "application/json", func(_, key string) string {
			return `{"result":"error","msg":"No such user ` + key + `","code":"BAD_REQUEST"}`
		}), 0},
		{"403 proxy page echoing the header", echo(403, "text/html", func(auth, _ string) string {
			return "<html>Forbidden. Request headers: Authorization: " + auth + "</html>"
		}), 0},
		{"404 plain text echoing both", echo(404, "text/plain", func(auth, key string) string {
			return key + " " + auth
		}), 0},
		{"405", echo(405, "application/json", func(_, key string) string {
			return `{"result":"error","msg":"Method Not Allowed ` + key + `","allowed_methods":["GET"]}`
		}), 0},
		{"429", echo(429, "application/json", func(_, key string) string {
			return `{"result":"error","msg":"` + key + `","code":"RATE_LIMIT_HIT","retry-after":0.05}`
		}), 0},
		{"500 echoing the key", echo(500, "application/json", func(_, key string) string {
			return `{"result":"error","msg":"Internal server error ` + key + `"}`
		}), 0},
		{"502 proxy page", echo(502, "text/html", func(auth, key string) string { return "<html>" + auth + key + "</html>" }), 0},
		{"200 garbage echoing the key", echo(200, "application/json", func(auth, key string) string {
			return `{"user":` + key + auth
		}), 0},
		{"200 wrong types", echo(200, "application/json", func(_, key string) string {
			return `{"user":{"user_id":"` + key + `"},"members":"` + key + `","id":"` + key + `"}`
		}), 0},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does the server notice the
			// client hanging up, and the handler ends with it.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 50 * time.Millisecond},
		{"connection dropped", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, 0},
	}
	calls := map[string]func(c *Client) error{
		"GetUser": func(c *Client) error { _, err := c.GetUser(context.Background(), "ann@example.org"); return err },
		"GetUserByID": func(c *Client) error {
			_, err := c.GetUserByID(context.Background(), 5)
			return err
		},
		"Users": func(c *Client) error { _, err := c.Users(context.Background()); return err },
		"Me":    func(c *Client) error { _, err := c.Me(context.Background()); return err },
		"ChangeEmailByID": func(c *Client) error {
			return c.ChangeEmailByID(context.Background(), 5, "new@example.org")
		},
		"SendDirectMessage": func(c *Client) error {
			_, err := c.SendDirectMessage(context.Background(), 5, "hi")
			return err
		},
		"ServerSettings": func(c *Client) error { _, err := c.ServerSettings(context.Background()); return err },
	}
	for _, f := range failures {
		for name, call := range calls {
			t.Run(f.name+"/"+name, func(t *testing.T) {
				srv := httptest.NewServer(f.handler)
				defer srv.Close()
				timeout := f.timeout
				if timeout == 0 {
					timeout = 2 * time.Second
				}
				c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: bot, APIKey: testKey, Timeout: timeout})
				if err != nil {
					t.Fatal(err)
				}
				instantWaits(c) // the 429s' short waits
				err = call(c)
				if err == nil {
					if strings.HasPrefix(f.name, "200") {
						return // garbage in fields this call does not read
					}
					t.Fatal("no error")
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error text holds the key: %v", err)
					}
				}
			})
		}
	}

	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		c, err := NewClient(Config{SiteURL: "http://" + addr, BotEmail: bot, APIKey: testKey})
		if err != nil {
			t.Fatal(err)
		}
		err = c.ChangeEmailByID(context.Background(), 5, "new@example.org")
		if err == nil || strings.Contains(err.Error(), testKey) || !IsTransient(err) {
			t.Errorf("err = %v", err)
		}
	})
}
