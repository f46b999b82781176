package server

import (
	"net/http"
	"path"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// IDs travel in REST paths (/v1/b2b/organizations/{organization_id}/members/{member_id}) and become
// segments of Stytch paths, so a path that does not say what it seems to must reach validation,
// which names the field, instead of being rewritten on the way:
//
//   - net/http's ServeMux answers a path with "." or ".." segments or doubled slashes with a
//     redirect to the "cleaned" path: DELETE …/members/.. would be sent to the organization itself.
//     uncleanPathsToGateway hands such paths to the gateway untouched.
//   - grpc-gateway's default (legacy) unescaping decodes %2F before splitting the path, so
//     …/members/mfa_phone_numbers%2Fmember-x routes to another RPC. pathUnescaping keeps an encoded
//     slash inside its segment, where the field's rule refuses it.

// pathUnescaping is the gateway's path-parameter unescaping: everything but %2F.
func pathUnescaping() runtime.ServeMuxOption {
	return runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptSlash)
}

// uncleanPathsToGateway serves a request whose path mux would redirect to a cleaned form (dot
// segments, empty segments), as sent or once decoded, with gw, which matches it against the API
// routes as it is: a dot or empty segment in an ID's place is that ID, refused by validation with
// INVALID_ARGUMENT naming the field, and anything else is the gateway's 404. Never a redirect.
func uncleanPathsToGateway(mux *http.ServeMux, gw http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if needsCleaning(r.URL.EscapedPath()) || needsCleaning(r.URL.Path) {
			gw.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// needsCleaning reports whether net/http's ServeMux would rewrite p: path.Clean changes it, a
// trailing slash aside.
func needsCleaning(p string) bool {
	if p == "" || p[0] != '/' {
		return false // not an origin-form path; ServeMux deals with it
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c != p
}
