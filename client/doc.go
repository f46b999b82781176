// Package client is the Go client for services that sit behind authsvc. One import gives a service
// the two things it needs, so that no team handles Stytch credentials or hand-rolls token checks.
//
// # Calling authsvc
//
// [New] dials authsvc once and exposes its API services as their generated gRPC clients: the B2B
// ones ([Client.MagicLinks], [Client.OTPs], [Client.Sessions], [Client.Members],
// [Client.Discovery]), the consumer ones under [Client.Consumer] (magic links, OTPs, sessions, users,
// passwords) and [Client.M2M]. The connection comes configured the way a production caller needs it:
//
//   - transport security by default (system roots); [WithTLS], [WithMutualTLS], or an explicit
//     [WithInsecure] for local development;
//   - a default deadline on every call that has none ([WithTimeout], 10 s unless set);
//   - M2M credentials ([WithM2MCredentials]): the client exchanges its client ID and secret for an
//     access token through authsvc's M2MService.IssueToken, caches it, refreshes it once 80% of its
//     lifetime has passed (concurrent callers share one refresh) and sends it as
//     "authorization: Bearer ..." on the RPCs whose access rule admits services - never on public
//     RPCs such as IssueToken itself, and never when the caller already set an authorization header
//     (a member session it forwards);
//   - retries on UNAVAILABLE for the RPCs that are safe to repeat (reads, verifications and the
//     idempotent logout; see [RetriedMethods]) and none for sends and creates, so a magic link is
//     never emailed twice because a reply was lost;
//   - OpenTelemetry spans and metrics per call (otelgrpc client handler; [WithTracerProvider],
//     [WithMeterProvider]), keepalive pings ([WithKeepalive]), and round-robin balancing over every
//     address the target resolves to (use a "dns:///authsvc.ns.svc:9090" target with a headless
//     Kubernetes Service to spread calls over replicas).
//
// # Protecting your own service
//
// Package [github.com/authsvc/authsvc/client/authn] turns a [Client] into middleware for the
// service's own endpoints: a net/http middleware and gRPC server interceptors that accept a member
// session JWT (Bearer or the stytch_session_jwt cookie) or an M2M access token, verify it locally
// with keys fetched from authsvc's SessionsService.GetJWKS (no network call per request), ask
// authsvc only when a session JWT has expired, enforce required roles or scopes, and put the caller
// in the request context ([github.com/authsvc/authsvc/client/authn.PrincipalFrom]).
package client
