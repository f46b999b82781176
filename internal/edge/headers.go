package edge

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// HeaderNames are the identity headers the upstream receives on an allowed request. Every one is
// set by authsvc or removed: a client cannot send its own.
type HeaderNames struct {
	Subject      string // member_id, user_id or client_id
	Organization string // the member's organization_id
	Roles        string // comma-separated
	Scopes       string // space-separated (M2M)
	Session      string // the session ID
	Kind         string // member, user, m2m or public
	Rule         string // the rule that admitted the request
}

// DefaultHeaders are the identity headers' default names.
var DefaultHeaders = HeaderNames{
	Subject:      "x-authsvc-subject",
	Organization: "x-authsvc-organization",
	Roles:        "x-authsvc-roles",
	Scopes:       "x-authsvc-scopes",
	Session:      "x-authsvc-session",
	Kind:         "x-authsvc-kind",
	Rule:         "x-authsvc-rule",
}

var headerToken = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// fields lists the names with their keys in AUTHSVC_EDGE_HEADERS.
func (h *HeaderNames) fields() []struct {
	key string
	dst *string
} {
	return []struct {
		key string
		dst *string
	}{
		{"subject", &h.Subject},
		{"organization", &h.Organization},
		{"roles", &h.Roles},
		{"scopes", &h.Scopes},
		{"session", &h.Session},
		{"kind", &h.Kind},
		{"rule", &h.Rule},
	}
}

// withDefaults fills the empty names with the defaults and checks that every name is a distinct
// lower-case header name.
func (h HeaderNames) withDefaults() (HeaderNames, error) {
	d := DefaultHeaders
	df := d.fields()
	seen := map[string]string{}
	for i, f := range h.fields() {
		if *f.dst == "" {
			*f.dst = *df[i].dst
		}
		*f.dst = strings.ToLower(*f.dst)
		if !headerToken.MatchString(*f.dst) {
			return h, fmt.Errorf("edge: the %s header name %q is not a header name", f.key, *f.dst)
		}
		if other, dup := seen[*f.dst]; dup {
			return h, fmt.Errorf("edge: %s and %s cannot both be the header %q", other, f.key, *f.dst)
		}
		seen[*f.dst] = f.key
	}
	return h, nil
}

// ParseHeaderNames reads AUTHSVC_EDGE_HEADERS' syntax, "subject=x-user-id,organization=x-tenant":
// each key of HeaderNames renamed; the others keep their defaults.
func ParseHeaderNames(s string) (HeaderNames, error) {
	var h HeaderNames
	byKey := map[string]*string{}
	for _, f := range h.fields() {
		byKey[f.key] = f.dst
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		dst, known := byKey[strings.TrimSpace(k)]
		if !ok || !known {
			return h, fmt.Errorf("%q: expected key=header-name with key one of subject, organization, roles, scopes, session, kind, rule", item)
		}
		*dst = strings.TrimSpace(v)
	}
	return h.withDefaults()
}

// All returns every name, in a fixed order.
func (h HeaderNames) All() []string {
	return []string{h.Subject, h.Organization, h.Roles, h.Scopes, h.Session, h.Kind, h.Rule}
}

// Values returns the identity headers of an allowed decision, every name with its value (empty
// when it does not apply), in All's order.
func (h HeaderNames) Values(d Decision) [][2]string {
	return [][2]string{
		{h.Subject, d.Identity.Subject},
		{h.Organization, d.Identity.Organization},
		{h.Roles, strings.Join(d.Identity.Roles, ",")},
		{h.Scopes, strings.Join(d.Identity.Scopes, " ")},
		{h.Session, d.Identity.Session},
		{h.Kind, d.Kind},
		{h.Rule, d.Rule},
	}
}

// loginURL is the rule's login page with the request's own URL as return_to, so the login page can
// send the browser back (the login page must check return_to against its own allowlist).
func loginURL(login string, in Input) string {
	u, err := url.Parse(login)
	if err != nil || in.Host == "" {
		return login
	}
	scheme := in.Scheme
	if scheme != "http" {
		scheme = "https"
	}
	q := u.Query()
	q.Set("return_to", scheme+"://"+in.Host+in.Target)
	u.RawQuery = q.Encode()
	return u.String()
}
