package verify

import "strings"

// ScopesSatisfied reports whether the scopes a token holds (have) meet every
// required scope, with the rule every Stytch SDK uses:
//
//   - each scope is split once, on the first ':', into action and resource
//     ("read:users" → read, users; "read:a:b" → read, a:b; "admin" → admin, "");
//   - a required scope is met when some held scope has the same action and
//     either the same resource or the resource '*';
//   - all required scopes must be met (an empty required list is met);
//   - there is no superuser: a bare "*" is an ordinary action named "*", and
//     "*:*" only meets required scopes whose action is literally "*".
//
// A scope without ':' has no resource, which is not the same as an empty one:
// "read" and "read:" do not meet each other, but "read:*" meets "read". (The
// official SDKs mark "no resource" with the placeholder "-", which makes
// "read:-" meet "read"; that accident is not reproduced.) Comparison is exact
// and case-sensitive.
func ScopesSatisfied(have, required []string) bool {
	for _, req := range required {
		if !scopeMet(have, req) {
			return false
		}
	}
	return true
}

func scopeMet(have []string, required string) bool {
	reqAction, reqResource, reqHasResource := strings.Cut(required, ":")
	for _, h := range have {
		action, resource, hasResource := strings.Cut(h, ":")
		if action != reqAction {
			continue
		}
		if hasResource && resource == "*" || hasResource == reqHasResource && resource == reqResource {
			return true
		}
	}
	return false
}
