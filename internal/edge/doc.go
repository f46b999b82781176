// Package edge makes authsvc the external authorizer of the proxies in front of other services:
// Envoy and Istio call [Authorization.Check] (envoy.service.auth.v3, on the gRPC port); nginx
// auth_request, Traefik forwardAuth and Caddy forward_auth call [ForwardAuth] (/ext_authz on the
// REST port). Both describe a request; the [Engine] finds the first rule of the rules file
// (internal/edge/rules) that matches it and decides, denying by default.
//
// The checks are the access layer's: credentials are read by access.ReadCredential (the
// Authorization header wins over the session cookies), member and user sessions are checked by
// the same session.Checker values the RPCs use (local JWT, revocation list, Stytch only for an
// opaque token or an expired JWT, within the remote-check budget), M2M tokens by the same local
// verifier, and failures are classified by access.ClassifyFailure. A JWT or an M2M token is
// decided with no network call.
//
// An allowed request reaches the upstream with identity headers (HeaderNames) that authsvc sets
// and a client cannot forge: Check removes every header of those names and sets its own; forward
// auth answers every name, so the proxy overwrites the client's. A denied one is answered 401
// (with a Bearer challenge), 403, or for a browser on a rule with redirect_to_login a 302 to the
// login page, with a JSON body {"code", "reason", "rule"}. A credential that cannot be checked
// right now (keys not loaded, Stytch down) is 503, never "invalid"; a spent remote-check budget
// is 429.
//
// RBAC permission rules (Stytch's RBAC policy decided locally) are not offered yet: they need the
// cached RBAC policy that the access layer does not have either.
package edge
