package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ValidateRequest checks a request (whose body is body) against its
// operation in the spec: the operation must exist, HTTP basic credentials
// must be present where the spec asks for them, and parameters and body must
// match. A multipart/form-data body is checked as the equivalent
// application/x-www-form-urlencoded one, since Zulip treats them alike.
func (v *Validator) ValidateRequest(r *http.Request, body []byte) error {
	route, params, err := v.findRoute(r)
	if err != nil {
		return err
	}
	in := v.requestInput(r, body, route, params)
	return openapi3filter.ValidateRequest(r.Context(), in)
}

// ValidateResponse checks a response to r against the spec. Statuses the
// operation documents are checked against their schema; others (401, 405,
// 429, ...) only for Zulip's error shape: {"result":"error","msg":...,
// "code":...} (no code for 405, which lists allowed_methods instead; a float
// retry-after for 429). 502, 503 and 504 may be a proxy's non-JSON page.
// Headers: WWW-Authenticate on 401, a numeric Retry-After on 429, integer
// X-RateLimit-* headers when present. A redirect (3xx) is not checked: the
// spec describes none, and they come from proxies and moved sites, not
// Zulip (see zuliptest.FaultRedirect).
func (v *Validator) ValidateResponse(r *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	if status >= 300 && status < 400 {
		return nil
	}
	var errs []error
	errs = append(errs, checkHeaders(status, header)...)
	route, params, err := v.findRoute(r)
	switch {
	case err != nil:
		if status < 400 {
			errs = append(errs, fmt.Errorf("status %d for an operation the spec lacks", status))
		}
		errs = append(errs, v.checkUndocumented(status, header, body)...)
	case route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil:
		errs = append(errs, v.checkUndocumented(status, header, body)...)
	default:
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: v.requestInput(r, reqBody, route, params),
			Status:                 status,
			Header:                 header,
			Options:                v.options(),
		}
		in.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (v *Validator) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:  basicAuth,
		MultiError:          true,
		SkipSettingDefaults: true,
	}
}

// requestInput builds the validation input from a copy of r carrying body.
func (v *Validator) requestInput(r *http.Request, body []byte, route *routers.Route, params map[string]string) *openapi3filter.RequestValidationInput {
	c := r.Clone(r.Context())
	if form, ok := multipartAsForm(r.Header.Get("Content-Type"), body); ok {
		body = []byte(form.Encode())
		c.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.ContentLength = int64(len(body))
	return &openapi3filter.RequestValidationInput{
		Request:    c,
		PathParams: params,
		Route:      route,
		Options:    v.options(),
	}
}

func multipartAsForm(contentType string, body []byte) (url.Values, bool) {
	mt, mp, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, false
	}
	f, err := multipart.NewReader(bytes.NewReader(body), mp["boundary"]).ReadForm(int64(len(body)) + 1024)
	if err != nil {
		return nil, false
	}
	defer func() { _ = f.RemoveAll() }()
	return url.Values(f.Value), true
}

// basicAuth accepts any request carrying HTTP basic credentials: whether
// they are right is the server's business, not the spec's.
func basicAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "basic") {
		return fmt.Errorf("spectest: unsupported security scheme %q", in.SecuritySchemeName)
	}
	user, key, ok := in.RequestValidationInput.Request.BasicAuth()
	if !ok || user == "" || key == "" {
		return errors.New("missing HTTP basic credentials (email and API key)")
	}
	return nil
}

// router returns a router for the spec with its servers replaced by the
// request's own base URL, {scheme}://{host}/api/v1.
func (v *Validator) router(r *http.Request) (routers.Router, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	v.mu.Lock()
	defer v.mu.Unlock()
	if rt, ok := v.routers[base]; ok {
		return rt, nil
	}
	doc := *v.doc
	doc.Servers = openapi3.Servers{{URL: base + "/api/v1"}}
	rt, err := gorillamux.NewRouter(&doc)
	if err != nil {
		return nil, fmt.Errorf("spectest: building a router for %s: %w", base, err)
	}
	v.routers[base] = rt
	return rt, nil
}

func (v *Validator) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	rt, err := v.router(r)
	if err != nil {
		return nil, nil, err
	}
	find := r
	if r.Method == http.MethodHead {
		// Zulip answers HEAD wherever it answers GET; the spec lists GET.
		find = r.Clone(r.Context())
		find.Method = http.MethodGet
	}
	route, params, err := rt.FindRoute(find)
	if err != nil {
		return nil, nil, fmt.Errorf("no operation in the spec for %s %s: %w", r.Method, r.URL.EscapedPath(), err)
	}
	return route, params, nil
}

func checkHeaders(status int, h http.Header) []error {
	var errs []error
	if status == http.StatusUnauthorized {
		if got := h.Get("WWW-Authenticate"); got != `Basic realm="zulip"` {
			errs = append(errs, fmt.Errorf(`401 without header WWW-Authenticate: Basic realm="zulip" (got %q)`, got))
		}
	}
	if status == http.StatusTooManyRequests {
		if f, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err != nil || f < 0 {
			errs = append(errs, fmt.Errorf("429 without a numeric Retry-After header (got %q)", h.Get("Retry-After")))
		}
	}
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if vals := h.Values(name); len(vals) > 0 {
			if _, err := strconv.ParseInt(vals[0], 10, 64); err != nil || len(vals) > 1 {
				errs = append(errs, fmt.Errorf("header %s is not one integer: %q", name, vals))
			}
		}
	}
	return errs
}

// checkUndocumented checks a response whose status the operation does not
// describe.
func (v *Validator) checkUndocumented(status int, h http.Header, body []byte) []error {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "application/json" {
		switch status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return nil // a proxy's error page
		}
		return []error{fmt.Errorf("status %d: Content-Type %q, want application/json", status, h.Get("Content-Type"))}
	}
	var value any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return []error{fmt.Errorf("status %d: body is not JSON: %w", status, err)}
	}
	if dec.More() {
		return []error{fmt.Errorf("status %d: trailing data after the JSON body", status)}
	}
	value = plainJSON(value)
	var schemaName string
	switch {
	case status < 300:
		schemaName = "JsonSuccessBase"
	case status == http.StatusTooManyRequests:
		schemaName = "RateLimitedError"
	case status == http.StatusMethodNotAllowed:
		return checkMethodNotAllowed(value)
	default:
		schemaName = "CodedErrorBase"
	}
	ref := v.doc.Components.Schemas[schemaName]
	if ref == nil || ref.Value == nil {
		return []error{fmt.Errorf("the spec has no %s schema", schemaName)}
	}
	if err := ref.Value.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		return []error{fmt.Errorf("status %d: body does not match %s: %w", status, schemaName, err)}
	}
	return nil
}

// checkMethodNotAllowed checks Zulip's 405 body:
// {"result":"error","msg":"Method Not Allowed","allowed_methods":[...]}.
func checkMethodNotAllowed(value any) []error {
	obj, ok := value.(map[string]any)
	if !ok {
		return []error{errors.New("status 405: body is not a JSON object")}
	}
	var errs []error
	if obj["result"] != "error" {
		errs = append(errs, fmt.Errorf(`status 405: result is %v, want "error"`, obj["result"]))
	}
	if _, ok := obj["msg"].(string); !ok {
		errs = append(errs, errors.New("status 405: msg is not a string"))
	}
	methods, ok := obj["allowed_methods"].([]any)
	if !ok || len(methods) == 0 {
		errs = append(errs, errors.New("status 405: allowed_methods is not a non-empty array"))
	}
	for _, m := range methods {
		if _, ok := m.(string); !ok {
			errs = append(errs, fmt.Errorf("status 405: allowed_methods holds %v, not a string", m))
		}
	}
	return errs
}

// plainJSON turns json.Number into float64, as kin-openapi expects.
func plainJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, x := range t {
			t[k] = plainJSON(x)
		}
	case []any:
		for i, x := range t {
			t[i] = plainJSON(x)
		}
	}
	return v
}
