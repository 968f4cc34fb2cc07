package spectest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// Middleware returns an HTTP middleware that checks every request and its
// response against the spec, reporting mismatches with tb.Errorf. Each
// message starts with "spectest: METHOD PATH: request:" or "...: response:".
// API keys are never printed. The response is buffered, checked, then sent.
// A hijacked connection is not checked, nor a response to a request whose
// client has gone.
func (v *Validator) Middleware(tb testing.TB) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body []byte
			if r.Body != nil {
				body, _ = io.ReadAll(r.Body)
				_ = r.Body.Close()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			where := r.Method + " " + r.URL.EscapedPath()
			if err := v.ValidateRequest(r, body); err != nil {
				tb.Errorf("spectest: %s: request: %s", where, redact(r, err.Error()))
			}

			cw := &captureWriter{under: w}
			next.ServeHTTP(cw, r)
			if cw.hijacked {
				return
			}
			if !cw.wrote && r.Context().Err() != nil {
				return
			}
			status := cw.status
			if status == 0 {
				status = http.StatusOK
			}
			if err := v.ValidateResponse(r, body, status, w.Header(), cw.buf.Bytes()); err != nil {
				tb.Errorf("spectest: %s: response %d: %s", where, status, redact(r, err.Error()))
			}
			cw.flush()
		})
	}
}

// redact removes the request's API key (and its Authorization header) from
// a message.
func redact(r *http.Request, msg string) string {
	if h := r.Header.Get("Authorization"); h != "" {
		msg = strings.ReplaceAll(msg, h, "[redacted]")
		if i := strings.IndexByte(h, ' '); i >= 0 {
			if raw := strings.TrimSpace(h[i+1:]); raw != "" {
				msg = strings.ReplaceAll(msg, raw, "[redacted]")
			}
		}
	}
	if _, key, ok := r.BasicAuth(); ok && key != "" {
		msg = strings.ReplaceAll(msg, key, "[redacted]")
		msg = strings.ReplaceAll(msg, base64.StdEncoding.EncodeToString([]byte(key)), "[redacted]")
	}
	return msg
}

// captureWriter buffers a response so it can be checked before it is sent.
type captureWriter struct {
	under    http.ResponseWriter
	status   int
	wrote    bool
	hijacked bool
	buf      bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.under.Header() }

func (c *captureWriter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.status, c.wrote = http.StatusOK, true
	}
	return c.buf.Write(b)
}

func (c *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := c.under.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		c.hijacked = true
	}
	return conn, rw, err
}

func (c *captureWriter) flush() {
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	c.under.WriteHeader(status)
	_, _ = c.under.Write(c.buf.Bytes())
}
