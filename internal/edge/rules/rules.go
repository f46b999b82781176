// Package rules is the edge's rules file: parsed and validated at load (every error names the line
// and the field), and matched against the request a proxy asks about. It decides nothing about
// credentials: internal/edge does, with the rule this package found.
//
// The file is YAML:
//
//	rules:
//	  - name: health
//	    match: {path_prefix: /healthz}
//	    public: true
//	  - name: org-admin
//	    match: {hosts: [api.example.com], path_pattern: "/orgs/{org}/admin/**", methods: [GET, POST]}
//	    session:
//	      kind: member
//	      roles: [stytch_admin]
//	      organization_from: {path_param: org}
//	      max_age: 10m
//	      factors: [totp]
//	    redirect_to_login: https://app.example.com/login
//	  - name: invoices-write
//	    match: {path_pattern: "/orgs/{org}/invoices/**", methods: [POST]}
//	    session:
//	      kind: member
//	      permission: {resource: invoices, action: write}
//	      organization_from: {path_param: org}
//	  - name: reports-api
//	    match: {path_prefix: /reports/}
//	    m2m: {scopes: [read:reports]}
//
// The first rule that matches decides; a request no rule matches is denied.
package rules

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Session kinds.
const (
	KindMember = "member" // a Stytch B2B member session
	KindUser   = "user"   // a Stytch consumer user session
	KindAny    = "any"    // either
)

// Set is a validated rules file, ready to match. It is immutable; a reload builds a new one.
type Set struct {
	rules []*Rule
}

// Rules returns the rules in file order (read-only).
func (s *Set) Rules() []*Rule { return s.rules }

// Rule is one validated rule.
type Rule struct {
	// Name identifies the rule in decisions, metrics and the x-authsvc-rule header.
	Name string
	// Line is the rule's line in the file.
	Line  int
	Match Match
	// Exactly one of Public, Session and M2M is set.
	Public  bool
	Session *Session
	M2M     *M2M
	// RedirectToLogin, when set, answers a browser (Accept: text/html) that must authenticate with a
	// redirect to this URL instead of a 401.
	RedirectToLogin string
}

// Match says which requests a rule applies to. Empty fields match anything.
type Match struct {
	// Hosts are compared without case and without port; "*.example.com" matches any subdomain of
	// example.com (not example.com itself).
	Hosts []string
	// PathPrefix matches the path itself and every path below it: "/api" matches /api and /api/x
	// but not /apix; a prefix that ends in "/" is a plain string prefix.
	PathPrefix string
	// PathPattern matches path segment by segment: "{name}" is one segment, captured as a
	// parameter; a last segment "**" matches any number of segments (none included).
	PathPattern string
	// Methods are upper-case HTTP methods.
	Methods []string

	pattern []segment
}

// Session admits a session of Kind with every role in Roles, whose organization is the one the
// request names (OrganizationFrom), authenticated at most MaxAge ago with every factor in Factors.
type Session struct {
	Kind             string
	Roles            []string
	OrganizationFrom *OrganizationFrom
	// MaxAge, when positive, is the longest time since the session's latest authentication (its
	// newest factor; the session's start when it has none): a step-up for sensitive routes, as
	// OIDC's max_age. It is not the JWT's age: JWTs are verified locally against the revocation list.
	MaxAge time.Duration
	// Factors are "type" (e.g. totp, sso, magic_link) or "type:delivery_method" (e.g. otp:sms).
	Factors []string
	// Permission, when set, is an RBAC permission one of the member's roles must grant by the B2B
	// project's policy, in the organization OrganizationFrom names (required with it; kind member).
	Permission *Permission
}

// Permission is an action on a resource of the project's RBAC policy, in Stytch's names.
type Permission struct {
	Resource string
	Action   string
}

// OrganizationFrom names where the request states its organization: exactly one of a parameter of
// the rule's path_pattern or a request header (lower case).
type OrganizationFrom struct {
	PathParam string
	Header    string
}

// M2M admits an M2M access token holding every scope in Scopes (Stytch's scope rule).
type M2M struct {
	Scopes []string
}

// Request is what is matched: the request the proxy asks about.
type Request struct {
	Method string
	// Host may carry a port; it is compared without.
	Host string
	// Path is the path without query (see SplitPath).
	Path string
}

// Params are the path parameters a pattern captured.
type Params map[string]string

// ErrAmbiguousPath: the path holds dot segments, backslashes or encoded slashes or dots, which the
// proxy and the upstream could read differently; such a request is refused, never matched.
var ErrAmbiguousPath = errors.New("ambiguous path")

// SplitPath takes the path out of a request target (path and query, as in :path or
// X-Forwarded-Uri; an absolute URL is accepted too) and checks that it cannot mean two things.
func SplitPath(target string) (string, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		u, err := url.Parse(target)
		if err != nil {
			return "", ErrAmbiguousPath
		}
		target = u.EscapedPath()
	}
	p, _, _ := strings.Cut(target, "?")
	p, _, _ = strings.Cut(p, "#")
	if p == "" {
		p = "/"
	}
	if p[0] != '/' || strings.ContainsRune(p, '\\') {
		return "", ErrAmbiguousPath
	}
	lower := strings.ToLower(p)
	for _, enc := range []string{"%2f", "%5c", "%2e", "%00"} {
		if strings.Contains(lower, enc) {
			return "", ErrAmbiguousPath
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", ErrAmbiguousPath
		}
	}
	if strings.Contains(p, "//") {
		return "", ErrAmbiguousPath
	}
	return p, nil
}

// Find returns the first rule that matches req and the path parameters it captured; nil when none
// does (deny).
func (s *Set) Find(req Request) (*Rule, Params) {
	for _, r := range s.rules {
		if p, ok := r.Match.matches(req); ok {
			return r, p
		}
	}
	return nil, nil
}

// Explain returns, for each rule in order up to the one that matched, why it did or did not
// match: the rules test tool prints it.
func (s *Set) Explain(req Request) []string {
	var out []string
	for _, r := range s.rules {
		why := r.Match.explain(req)
		if why == "" {
			out = append(out, fmt.Sprintf("rule %q (line %d): matches", r.Name, r.Line))
			return out
		}
		out = append(out, fmt.Sprintf("rule %q (line %d): %s", r.Name, r.Line, why))
	}
	return append(out, "no rule matches: denied by default")
}

func (m *Match) matches(req Request) (Params, bool) {
	if len(m.Methods) > 0 && !containsFold(m.Methods, req.Method) {
		return nil, false
	}
	if len(m.Hosts) > 0 && !hostMatches(m.Hosts, req.Host) {
		return nil, false
	}
	if m.PathPrefix != "" && !prefixMatches(m.PathPrefix, req.Path) {
		return nil, false
	}
	if m.pattern != nil {
		return matchPattern(m.pattern, req.Path)
	}
	return nil, true
}

func (m *Match) explain(req Request) string {
	switch {
	case len(m.Methods) > 0 && !containsFold(m.Methods, req.Method):
		return fmt.Sprintf("method %s is not one of %v", req.Method, m.Methods)
	case len(m.Hosts) > 0 && !hostMatches(m.Hosts, req.Host):
		return fmt.Sprintf("host %q is not one of %v", hostOnly(req.Host), m.Hosts)
	case m.PathPrefix != "" && !prefixMatches(m.PathPrefix, req.Path):
		return fmt.Sprintf("path %s is not under %s", req.Path, m.PathPrefix)
	}
	if m.pattern != nil {
		if _, ok := matchPattern(m.pattern, req.Path); !ok {
			return fmt.Sprintf("path %s does not match %s", req.Path, m.PathPattern)
		}
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// hostOnly lower-cases host and drops its port (and an IPv6 literal's brackets stay).
func hostOnly(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}

func hostMatches(hosts []string, host string) bool {
	h := hostOnly(host)
	for _, want := range hosts {
		if suffix, ok := strings.CutPrefix(want, "*"); ok {
			if strings.HasSuffix(h, suffix) && len(h) > len(suffix) {
				return true
			}
			continue
		}
		if h == want {
			return true
		}
	}
	return false
}

func prefixMatches(prefix, path string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// segment is one segment of a path pattern: a literal, a parameter, or the trailing "**".
type segment struct {
	literal string
	param   string
	rest    bool
}

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func compilePattern(p string) ([]segment, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New("must start with /")
	}
	parts := strings.Split(p[1:], "/")
	segs := make([]segment, 0, len(parts))
	seen := map[string]bool{}
	for i, part := range parts {
		switch {
		case part == "**":
			if i != len(parts)-1 {
				return nil, errors.New(`"**" may only be the last segment`)
			}
			segs = append(segs, segment{rest: true})
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if !paramName.MatchString(name) {
				return nil, fmt.Errorf("parameter %q is not a name", part)
			}
			if seen[name] {
				return nil, fmt.Errorf("parameter {%s} appears twice", name)
			}
			seen[name] = true
			segs = append(segs, segment{param: name})
		case strings.ContainsAny(part, "{}*"):
			return nil, fmt.Errorf("segment %q: a parameter is a whole segment {name}, and ** only the last one", part)
		default:
			segs = append(segs, segment{literal: part})
		}
	}
	return segs, nil
}

func matchPattern(segs []segment, path string) (Params, bool) {
	parts := strings.Split(path[1:], "/")
	var params Params
	for i, s := range segs {
		if s.rest {
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		switch {
		case s.param != "":
			if parts[i] == "" {
				return nil, false
			}
			if params == nil {
				params = Params{}
			}
			params[s.param] = parts[i]
		case parts[i] != s.literal:
			return nil, false
		}
	}
	return params, len(parts) == len(segs)
}
