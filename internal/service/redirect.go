package service

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/authsvc/authsvc/internal/rpcerr"
)

// RedirectPolicy decides which redirect URL a magic link carries. authsvc never forwards an arbitrary
// caller-supplied URL (an open redirect that also leaks the link's token to whoever owns the URL):
//
//   - a URL in the request must match an allowlist entry, else INVALID_ARGUMENT naming the field;
//   - an omitted URL becomes the default, the first entry;
//   - with no allowlist configured, no URL is sent and Stytch uses the project's default redirect
//     URLs (registered in its dashboard); a URL in the request is then INVALID_ARGUMENT.
//
// Matching compares scheme and host case-insensitively (a default port equals no port), the path
// exactly (no cleaning: "/a/../b" does not match "/b", and a trailing slash matters), and the query
// as a set of parameters (order-insensitive, values exact): an entry without a query admits only
// URLs without one, so a caller cannot smuggle a "next=" parameter through the link. User info and
// fragments are refused. What is sent to Stytch is always the configured entry, verbatim.
//
// The zero value has no allowlist.
type RedirectPolicy struct {
	entries []redirectEntry
	// late, when set (WithLateEntries), holds more allowed URLs, known only after the policy was
	// handed to the services: dev mode's console landing page, whose port is bound later.
	late *atomic.Pointer[[]redirectEntry]
}

type redirectEntry struct {
	key string // normalised form for comparison
	raw string // as configured: what Stytch receives
}

// NewRedirectPolicy builds a policy from the allowlist (AUTHSVC_ALLOWED_REDIRECT_URLS); the first
// entry is the default. An empty list means "no allowlist" (see RedirectPolicy).
func NewRedirectPolicy(allowed []string) (RedirectPolicy, error) {
	var p RedirectPolicy
	for _, raw := range allowed {
		key, err := redirectKey(raw)
		if err != nil {
			return RedirectPolicy{}, fmt.Errorf("allowed redirect URL %q: %w", raw, err)
		}
		p.entries = append(p.entries, redirectEntry{key: key, raw: raw})
	}
	return p, nil
}

// Default returns the default redirect URL, empty when no allowlist is configured.
func (p RedirectPolicy) Default() string {
	if len(p.entries) == 0 {
		return ""
	}
	return p.entries[0].raw
}

// WithLateEntries returns p with room for more allowed URLs and the function that sets them (the
// last call counts). Copies of the returned policy share them, so they may be set after the policy
// went to the services: dev mode allows its console's landing page (/dev/authenticate.html) once
// the REST port is bound. Late entries are matched like the others but are never the default: an
// omitted URL resolves as before, and with no allowlist configured Stytch's project default still
// applies.
func (p RedirectPolicy) WithLateEntries() (RedirectPolicy, func(raw ...string) error) {
	late := &atomic.Pointer[[]redirectEntry]{}
	p.late = late
	return p, func(raw ...string) error {
		more, err := NewRedirectPolicy(raw)
		if err != nil {
			return err
		}
		late.Store(&more.entries)
		return nil
	}
}

// Resolve returns the URL to send to Stytch for the request field named field (a proto field name,
// used in the error) whose value is requested.
func (p RedirectPolicy) Resolve(field, requested string) (string, error) {
	if requested == "" {
		return p.Default(), nil
	}
	var late []redirectEntry
	if p.late != nil {
		if l := p.late.Load(); l != nil {
			late = *l
		}
	}
	if len(p.entries)+len(late) == 0 {
		return "", rpcerr.InvalidArgument(field, "invalid_redirect_url",
			field+" cannot be set: no redirect URLs are configured; omit it to use the project's default")
	}
	key, err := redirectKey(requested)
	if err == nil {
		for _, list := range [...][]redirectEntry{p.entries, late} {
			for _, e := range list {
				if e.key == key {
					return e.raw, nil
				}
			}
		}
	}
	// The message names the field, never the URL: it is caller input.
	return "", rpcerr.InvalidArgument(field, "invalid_redirect_url", field+" is not an allowed redirect URL")
}

var errBadRedirect = errors.New("not an absolute http(s) URL without user info or fragment")

// redirectKey normalises an absolute http(s) URL for comparison.
func redirectKey(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errBadRedirect
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "", errBadRedirect
	}
	host := strings.ToLower(u.Hostname())
	defaultPort := (scheme == "http" && u.Port() == "80") || (scheme == "https" && u.Port() == "443")
	if port := u.Port(); port != "" && !defaultPort {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal without port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", errBadRedirect
	}
	return scheme + "://" + host + path + "?" + q.Encode(), nil
}
