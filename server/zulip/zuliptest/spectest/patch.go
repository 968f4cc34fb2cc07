package spectest

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// numericUserPath replaces /users/{user_id}: Zulip routes a numeric segment
// to the user-ID endpoints and anything else to /users/{email}; the spec's
// two templates are otherwise ambiguous (and the ID one sorts first).
const numericUserPath = "/users/{user_id:[0-9]+}"

// validationUserPath holds /users/{user_id} while the document is validated.
const validationUserPath = "/users/by-id/{user_id}"

// patchDoc adjusts the spec where it is known to differ from what the
// server does, or cannot be used by the router as it stands:
//
//   - the top-level security requirement names "basicAuth" while the scheme
//     is declared as "BasicAuth": both names are made to mean the scheme;
//   - GET /server_settings needs no authentication (its own description
//     says so) but inherits the global requirement: it gets none;
//   - RateLimitedError types "retry-after" as an integer; the server sends
//     a float (openapi/README.md): it becomes a number;
//   - in form bodies, Zulip sends object-valued parameters (e.g. the
//     UpdateUser body's profile_data) JSON-encoded, which the spec says with
//     `encoding: contentType: application/json`; kin-openapi's form decoder
//     refuses such properties outright, so they are checked as strings;
//   - some error responses (e.g. POST /messages 400) list examples as
//     oneOf branches of the same schema (CodedError three times), so any
//     such error matches several and fails oneOf: error responses' oneOf
//     becomes anyOf;
//   - /users/{user_id} only matches digits (see numericUserPath); OpenAPI
//     calls it the same path as /users/{email}, so the document is
//     validated with it moved aside.
//
// The servers list is replaced per request host by the router (see
// Validator.router).
func patchDoc(doc *openapi3.T) error {
	if doc.Components == nil || doc.Components.SecuritySchemes == nil {
		return fmt.Errorf("the spec declares no security schemes")
	}
	basic := doc.Components.SecuritySchemes["BasicAuth"]
	if basic == nil {
		return fmt.Errorf("the spec has no BasicAuth security scheme")
	}
	if doc.Components.SecuritySchemes["basicAuth"] == nil {
		doc.Components.SecuritySchemes["basicAuth"] = basic
	}

	settings := doc.Paths.Value("/server_settings")
	if settings == nil || settings.Get == nil {
		return fmt.Errorf("the spec has no GET /server_settings")
	}
	settings.Get.Security = openapi3.NewSecurityRequirements()

	if err := relaxRetryAfter(doc); err != nil {
		return err
	}
	formEncodedJSONAsStrings(doc)
	errorOneOfAsAnyOf(doc)

	byID := doc.Paths.Value("/users/{user_id}")
	if byID == nil {
		return fmt.Errorf("the spec has no /users/{user_id} path")
	}
	// The spec's /users/{user_id} and /users/{email} are, by OpenAPI's
	// rules, the same path: validate with the former moved aside, and with
	// concrete servers.
	doc.Paths.Delete("/users/{user_id}")
	doc.Paths.Set(validationUserPath, byID)
	servers := doc.Servers
	doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1/api/v1"}}
	err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation())
	doc.Servers = servers
	doc.Paths.Delete(validationUserPath)
	if err != nil {
		return fmt.Errorf("the spec does not validate: %w", err)
	}
	doc.Paths.Set(numericUserPath, byID)
	return nil
}

func relaxRetryAfter(doc *openapi3.T) error {
	ref := doc.Components.Schemas["RateLimitedError"]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("the spec has no RateLimitedError schema")
	}
	for _, part := range ref.Value.AllOf {
		if part.Value == nil {
			continue
		}
		if p := part.Value.Properties["retry-after"]; p != nil && p.Value != nil {
			p.Value.Type = &openapi3.Types{openapi3.TypeNumber}
			return nil
		}
	}
	return fmt.Errorf("RateLimitedError has no retry-after property")
}

// formEncodedJSONAsStrings replaces, in every form request body, the
// properties kin-openapi cannot decode from a form (objects, arrays of
// non-scalars) by plain strings: their JSON text.
func formEncodedJSONAsStrings(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			media := op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
			if media == nil || media.Schema == nil || media.Schema.Value == nil {
				continue
			}
			props := media.Schema.Value.Properties
			for name, p := range props {
				if p == nil || p.Value == nil || !needsJSONString(p.Value) {
					continue
				}
				props[name] = openapi3.NewSchemaRef("", &openapi3.Schema{
					Type:        &openapi3.Types{openapi3.TypeString},
					Description: p.Value.Description,
				})
			}
		}
	}
}

func needsJSONString(s *openapi3.Schema) bool {
	switch {
	case s.Type.Is(openapi3.TypeObject):
		return true
	case s.Type.Is(openapi3.TypeArray):
		if s.Items == nil || s.Items.Value == nil {
			return true
		}
		it := s.Items.Value.Type
		return !(it.Is(openapi3.TypeString) || it.Is(openapi3.TypeInteger) || it.Is(openapi3.TypeNumber) || it.Is(openapi3.TypeBoolean))
	}
	return false
}

// errorOneOfAsAnyOf turns the top-level oneOf of every 4xx/5xx response
// schema into anyOf.
func errorOneOfAsAnyOf(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				continue
			}
			for code, resp := range op.Responses.Map() {
				if len(code) != 3 || (code[0] != '4' && code[0] != '5') || resp == nil || resp.Value == nil {
					continue
				}
				for _, media := range resp.Value.Content {
					if media == nil || media.Schema == nil || media.Schema.Ref != "" || media.Schema.Value == nil {
						continue // a shared schema is left alone
					}
					sc := media.Schema.Value
					if len(sc.OneOf) > 0 && len(sc.AnyOf) == 0 {
						sc.AnyOf, sc.OneOf = sc.OneOf, nil
					}
				}
			}
		}
	}
}
