package stytchclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// PathParamError reports a path parameter that was refused before any request was made because it
// is not exactly one URL path segment: empty, a dot segment ("." or ".."), or holding a slash, a
// backslash or a control character, as it is or once percent-decoded. Sent as it is, such a value
// would address another resource: ".." as a member ID turns "delete this member" into "delete the
// organization" at any server or proxy that normalizes paths. url.PathEscape alone does not help:
// it leaves dots alone, and a front end that decodes %2F before routing splits the segment again.
//
// Callers map it to a bad request naming Param; the message never contains the value.
type PathParamError struct {
	// Endpoint is the endpoint template, e.g.
	// "DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}".
	Endpoint string
	// Param is the placeholder's name in the template, e.g. "member_id".
	Param string
	// Reason says what is wrong, e.g. "is a dot segment".
	Reason string
}

func (e *PathParamError) Error() string {
	return fmt.Sprintf("stytch: %s: path parameter %s %s; no request was made", e.Endpoint, e.Param, e.Reason)
}

// buildPath is the only way a request path is made: it fills the {placeholders} of the endpoint
// template ("METHOD /v1/.../{name}/...") with params, in order, each checked by checkSegment and
// escaped with url.PathEscape. A template without placeholders is its own path.
func buildPath(endpoint string, params []string) (string, error) {
	_, template, _ := strings.Cut(endpoint, " ")
	if !strings.Contains(template, "{") && len(params) == 0 {
		return template, nil
	}
	segs := strings.Split(template, "/")
	n := 0
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		if n == len(params) {
			return "", fmt.Errorf("stytch: %s: %w", endpoint, errPlaceholders)
		}
		if reason := checkSegment(params[n]); reason != "" {
			return "", &PathParamError{Endpoint: endpoint, Param: strings.Trim(s, "{}"), Reason: reason}
		}
		segs[i] = url.PathEscape(params[n])
		n++
	}
	if n != len(params) {
		return "", fmt.Errorf("stytch: %s: %w", endpoint, errPlaceholders)
	}
	return strings.Join(segs, "/"), nil
}

// errPlaceholders is a programming error in this package (a call whose params do not fit its
// template); the endpoint tests call every method.
var errPlaceholders = errors.New("path parameters do not match the template's placeholders")

// checkSegment returns why v cannot be one path segment, or "" when it can. The decoded form is
// checked too, for a proxy that decodes %2E and %2F before it normalizes or routes.
func checkSegment(v string) string {
	if v == "" {
		return "is empty"
	}
	if strings.ContainsFunc(v, isControl) {
		return "contains a control character"
	}
	if reason := unsafeSegment(v); reason != "" {
		return reason
	}
	if d, err := url.PathUnescape(v); err == nil && d != v {
		if strings.ContainsFunc(d, isControl) {
			return "contains a percent-encoded control character"
		}
		if reason := unsafeSegment(d); reason != "" {
			return "percent-decoded " + reason
		}
	}
	return ""
}

func unsafeSegment(v string) string {
	switch {
	case v == "." || v == "..":
		return "is a dot segment"
	case strings.ContainsAny(v, `/\`):
		return "contains a slash"
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
