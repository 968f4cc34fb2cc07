package zuliptest

import (
	"net/http"
)

// handleServerSettings is GET /server_settings: no authentication.
func (s *Server) handleServerSettings(w http.ResponseWriter, r *http.Request, in *input) {
	if !s.unauthed(w, r) {
		return
	}
	s.mu.Lock()
	level := s.level
	s.mu.Unlock()
	realm := "http://" + r.Host
	if r.TLS != nil {
		realm = "https://" + r.Host
	}
	version := ZulipVersion(level)
	f := map[string]any{
		"authentication_methods": map[string]bool{
			"password": true, "dev": false, "email": true, "ldap": false,
			"remoteuser": false, "github": false, "azuread": false,
			"gitlab": false, "apple": false, "google": false, "saml": false,
			"openid connect": false,
		},
		"external_authentication_methods": []any{},
		"zulip_version":                   version,
		"push_notifications_enabled":      false,
		"is_incompatible":                 false,
		"email_auth_enabled":              true,
		"require_email_format_usernames":  true,
		"realm_uri":                       realm,
		"realm_name":                      "Zulip Emulator",
		"realm_icon":                      realm + "/static/images/logo/zulip-icon-128x128.png",
		"realm_description":               "<p>An emulated Zulip organization for tests.</p>",
	}
	if level > 0 {
		f["zulip_feature_level"] = level
	}
	if level >= 88 {
		f["zulip_merge_base"] = version
	}
	if level >= 116 {
		f["realm_web_public_access_enabled"] = false
	}
	if level >= 257 {
		f["realm_url"] = realm
	}
	writeSuccess(w, level, in.unsupported(), f)
}

// ZulipVersion is the release the emulator reports for a feature level.
func ZulipVersion(level int) string {
	switch {
	case level >= 313:
		return "10.0"
	case level >= 278:
		return "9.4"
	case level >= 237:
		return "8.5"
	case level >= 185:
		return "7.5"
	case level >= 151:
		return "6.2"
	case level >= 114:
		return "5.6"
	case level >= 65:
		return "4.11"
	case level >= 1:
		return "3.4"
	default:
		return "2.1.8"
	}
}
