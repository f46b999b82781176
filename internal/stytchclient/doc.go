// Package stytchclient is authsvc's only way to Stytch: a typed REST client
// for the B2B (magic links, OTPs, sessions, discovery, organizations,
// members), consumer (users, magic links, OTPs, sessions) and M2M (clients,
// secrets, token) endpoints, with errors, retries and tracing designed for a
// service that must keep answering when Stytch misbehaves. It knows HTTP and
// JSON, and protobuf only where its errors carry their gRPC status
// (status.go).
//
// Local token verification (JWKS cache, session JWT and M2M verifiers,
// scope rule) lives in the verify subpackage; Client.FetchJWKS feeds its
// key cache, and internal/session joins the two into a local-first session
// check.
//
// # Projects
//
// A Stytch project is either B2B or consumer, each with its own project ID,
// secret and signing keys. One Client talks to one project, of the type
// Config.ProjectType names (ProjectB2B, the default when it is empty, or
// ProjectConsumer); a deployment that fronts both builds two clients. The
// type decides two things: which JWKS GetJWKS and FetchJWKS fetch (B2B GET
// /v1/b2b/sessions/jwks/{project_id}, consumer GET
// /v1/sessions/jwks/{project_id}), and which methods may run: a B2B method
// on a consumer client, or a consumer method on a B2B client, fails with
// *ProjectTypeError before any request (Stytch would answer 401
// unauthorized_credentials, which looks like a wrong secret). M2M methods
// and FetchConsumerJWKS run on either.
//
// Names: B2B methods and types keep their names (MagicLinkAuthenticate,
// SessionsAuthenticate, Member, MemberSessionInfo, AuthenticationFactor).
// Consumer methods and their Params and Result types start with Consumer
// (ConsumerMagicLinkSend with ConsumerMagicLinkSendParams,
// ConsumerOTPAuthenticate, ConsumerSessionsAuthenticate with
// ConsumerSessionsAuthenticateResult), except the users endpoints, which
// only consumer projects have: UserCreate, UserGet, UserSearch,
// UserDeleteEmail... with UserCreateParams and so on. Stytch's consumer
// objects are named after the user: User, UserSession (a consumer session),
// UserAuthenticationFactor, UserEmail, UserPhoneNumber, UserName. Types the
// two kinds share keep one name (Envelope, Metadata, Timestamp, JWK,
// SearchQuery, ResultsMetadata, DeviceInfo, AuthorizationVerdict).
// Endpoints with one request or response shape share its type: SMS and
// WhatsApp sends take ConsumerOTPPhoneSendParams, magic-link and OTP
// authenticate return ConsumerAuthenticateResult, the password calls that
// may start a session return ConsumerSessionResult, the factor deletes and
// exchange_primary_factor return UserResult. Passwords are the Consumer
// password methods (ConsumerPasswordCreate ... ConsumerPasswordSessionReset).
//
// # Calls
//
// One method per endpoint, context first, one Params struct in and one
// Result struct out (Stytch's JSON field names). Every path is built from
// the endpoint template by one helper (buildPath), which escapes each path
// parameter with url.PathEscape and refuses, with a *PathParamError and
// without any request, a value that is not exactly one segment: empty, "."
// or "..", or holding a slash, backslash or control character (also once
// percent-decoded). In update Params, nil means "leave alone"
// and an explicit empty value clears: *string/*bool fields, and slices and
// maps tagged omitzero (an empty non-nil Roles removes every explicit role).
// B2B writes that Stytch lets a member perform take an ActingMember
// MemberSession (or a MemberSession argument) sent as
// X-Stytch-Member-Session / X-Stytch-Member-SessionJWT.
//
// # Errors
//
// Every non-2xx is an *Error with the status code, whatever the body (a
// proxy's HTML 502 and an empty body included), Stytch's request_id (or a
// request-ID response header), error_type, error_message, error_url,
// error_details and Retry-After. The token endpoint's OAuth2 errors use the
// same type, ErrorType holding the OAuth2 "error". Transport failures and
// timeouts are *TransportError. IsNotFound, IsRateLimited, IsUnauthorized,
// IsUnavailable (5xx, transport, timeouts; also errors.Is(err, ErrUnavailable))
// and IsTimeout classify; every one of them carries its gRPC status
// (GRPCStatus, status.go), mapped from Stytch's error_type. One exception:
// Stytch answers a wrong end-user password with the 401
// unauthorized_credentials it also uses for a wrong project secret, so on
// ConsumerPasswordAuthenticate and ConsumerPasswordExistingPasswordReset
// (Error.EndUserCredentials) it is UNAUTHENTICATED, not INTERNAL.
// Error() strings name the endpoint template, status, error type and
// request ID only: never the error_message (Stytch echoes emails there),
// the URL (member get by email carries it in the query), or secrets.
// Bodies are read through io.LimitReader (Config.MaxResponseBytes).
//
// # Retries
//
// See (*Client).do for the classification. In short: an attempt is
// repeated only when replaying it cannot cause anything the first did not —
// the attempt never got a connection (httptrace GotConn never fired: DNS,
// dial, TLS failures), or the endpoint is read-only (GETs; the search POSTs,
// users search included, the discovery organization list and the password
// strength check) and the failure is a transport error,
// timeout or 500/502/503/504. Sends, authenticates, creates, exchanges,
// token issuance, PUTs and DELETEs are never repeated once they may have been sent. 429 is
// never retried: the caller gets IsRateLimited with RetryAfter. Backoff is
// full-jitter exponential within RetryPolicy's attempt budget and stops
// when the caller's context ends.
//
// # Telemetry
//
// Each attempt is an otelhttp client span named after the endpoint template
// ("POST /v1/b2b/sessions/authenticate", "GET
// /v1/b2b/organizations/{organization_id}/member", "GET /v1/users/{user_id}"),
// never a URL with IDs,
// with HTTP semantic-convention attributes, url.template,
// http.request.resend_count on retries, stytch.request_id and
// stytch.error_type. url.full carries the query with every value replaced
// by REDACTED. The histogram stytch.client.duration (seconds) records every
// attempt by stytch.endpoint and http.response.status_code or error.type; it
// is the client's only metric (otelhttp's HTTP client histograms would repeat
// it without the endpoint template, so they are not recorded).
//
// # M2M tokens
//
// TokenSource caches tokens per (client ID, client secret, sorted scope set),
// refreshes at 80% of their lifetime, collapses concurrent misses into one
// upstream call with singleflight, never caches errors, and counts hits,
// misses and fetches.
//
// # Compared with the official Go SDK
//
// docs/stytch.md ("What authsvc does better than calling Stytch's Go SDK")
// lists its weak points; each is handled here:
//
//   - No default timeout (http.Client{}): here dial 5 s, TLS 5 s, response
//     headers 15 s and 20 s per attempt by default, plus the caller's context.
//   - Errors lose the status and request ID on non-JSON bodies: *Error keeps
//     both for every non-2xx, and transport failures are a distinct,
//     classifiable *TransportError instead of a bare url.Error carrying the
//     URL (and any email in its query).
//   - No retry policy: retries here are limited to what is safe (above),
//     and 429s surface with their hint instead of being hammered.
//   - Startup fails when Stytch is down: New makes no network call; the
//     JWKS cache in verify loads in the background.
//   - Remote fallback on any local JWT failure, so forged or garbage tokens
//     become upstream calls: internal/session's checker goes remote only for
//     a genuine token that is expired or too old (verify.Refreshable).
//   - A local success returns no member and no sign of which path ran: the
//     checker's Result says which path decided and why, and Session is
//     filled on both paths.
//   - maxTokenAge == 0 means three things in three methods: MaxTokenAge has
//     one meaning (iat older than it → ask Stytch; zero = no limit).
//   - The unknown-kid JWKS fetch blocks callers and ignores their context,
//     and there is zero leeway with exp optional: handled in verify (context-
//     bounded shared refetch, RS256 pinned, kid/exp/iat required, leeway).
//   - M2M tokens are never cached: TokenSource caches them safely.
//   - Span names: the SDK has no tracing; here every call is a span named
//     after its endpoint template with Stytch's request ID on it.
package stytchclient
