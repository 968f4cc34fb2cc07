package zuliptest

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

const maxBody = 1 << 20

// input is what the emulator reads from a request.
type input struct {
	params      url.Values // query string, overridden by the form body
	bodyWasJSON bool
	target      string // decoded {email} / {id} path segment
}

// param returns the last value of name (Django's QueryDict.get), and
// whether it was sent.
func (in input) param(name string) (string, bool) {
	v, ok := in.params[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// unsupported lists the sent parameters not in supported.
func (in input) unsupported(supported ...string) []string {
	var out []string
	for k := range in.params {
		found := false
		for _, s := range supported {
			if k == s {
				found = true
				break
			}
		}
		if !found {
			out = append(out, k)
		}
	}
	return out
}

// serve is the emulator's root handler: it records the request, applies
// faults and dispatches.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	in := readInput(r)
	authEmail, _, _ := r.BasicAuth()
	rec := Request{
		Method:      r.Method,
		Path:        r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"),
		Form:        cloneValues(in.params),
		BodyWasJSON: in.bodyWasJSON,
		AuthEmail:   authEmail,
		UserAgent:   r.UserAgent(),
		At:          s.clock(),
	}
	defer func() {
		rec.Done = s.clock()
		rec.Status = sw.status
		rec.Target = in.target
		s.record(rec)
	}()
	if f, ok := s.takeFault(r); ok && applyFault(sw, r, f) {
		return
	}
	s.route(sw, r, &in)
}

// readInput parses the query string and a form body (urlencoded or
// multipart). A JSON body is noted and not parsed, as Zulip does.
func readInput(r *http.Request) input {
	in := input{params: url.Values{}}
	for k, v := range r.URL.Query() {
		in.params[k] = v
	}
	if r.Body == nil {
		return in
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var form url.Values
	switch {
	case mt == "application/x-www-form-urlencoded":
		form, _ = url.ParseQuery(string(body))
	case mt == "multipart/form-data":
		mf, err := multipart.NewReader(bytes.NewReader(body), mp["boundary"]).ReadForm(maxBody)
		if err == nil {
			form = mf.Value
			_ = mf.RemoveAll()
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		in.bodyWasJSON = true
	}
	for k, v := range form {
		in.params[k] = v
	}
	return in
}

// route dispatches like Zulip's URL configuration: unknown paths get 404,
// known paths with an unsupported method 405, then authentication, rate
// limiting and the endpoint. Like Django, it matches the percent-decoded
// path (PATH_INFO): /users/a%2Fb@x.org is /users/a/b@x.org, which no route
// matches, so an address holding "/" cannot be addressed by email (404).
func (s *Server) route(w http.ResponseWriter, r *http.Request, in *input) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		writeError(w, http.StatusNotFound, CodeBadRequest, MsgNotFound)
		return
	}
	isGet := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch rest {
	case "server_settings":
		if !isGet {
			writeMethodNotAllowed(w, "GET", "HEAD")
			return
		}
		s.handleServerSettings(w, r, in)
		return
	case "users":
		if !isGet {
			writeMethodNotAllowed(w, "GET", "HEAD")
			return
		}
		s.authed(w, r, in, s.handleGetUsers)
		return
	case "messages":
		if r.Method != http.MethodPost {
			writeMethodNotAllowed(w, "POST")
			return
		}
		s.authed(w, r, in, s.handleSendMessage)
		return
	case "register":
		if r.Method != http.MethodPost {
			writeMethodNotAllowed(w, "POST")
			return
		}
		s.authed(w, r, in, s.handleRegister)
		return
	case "events":
		switch {
		case isGet:
			s.authed(w, r, in, s.handleGetEvents)
		case r.Method == http.MethodDelete:
			s.authed(w, r, in, s.handleDeleteQueue)
		default:
			writeMethodNotAllowed(w, "GET", "HEAD", "DELETE")
		}
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 || parts[0] != "users" || parts[1] == "" {
		writeError(w, http.StatusNotFound, CodeBadRequest, MsgNotFound)
		return
	}
	target := parts[1]
	in.target = target
	level := s.FeatureLevel()
	switch {
	case target == "me":
		if !isGet {
			writeMethodNotAllowed(w, "GET", "HEAD")
			return
		}
		s.authed(w, r, in, s.handleGetMe)
	case isDigits(target):
		switch {
		case isGet:
			s.authed(w, r, in, s.handleGetUserByID)
		case r.Method == http.MethodPatch:
			s.authed(w, r, in, s.handlePatchUserByID)
		default:
			writeMethodNotAllowed(w, "GET", "HEAD", "PATCH")
		}
	case level < 39:
		writeError(w, http.StatusNotFound, CodeBadRequest, MsgNotFound)
	case isGet:
		s.authed(w, r, in, s.handleGetUserByEmail)
	case r.Method == http.MethodPatch && level >= 313:
		s.authed(w, r, in, s.handlePatchUserByEmail)
	case level >= 313:
		writeMethodNotAllowed(w, "GET", "HEAD", "PATCH")
	default:
		writeMethodNotAllowed(w, "GET", "HEAD")
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
