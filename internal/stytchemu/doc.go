// Package stytchemu is an in-memory Stytch: a faithful emulator of the Stytch
// B2B and M2M endpoints authsvc uses, for tests, authsvc dev mode and
// frontend teams (cmd/stytchemu).
//
// It speaks the real wire protocol (Stytch's OpenAPI document): Stytch's
// paths, JSON field names, status codes, error bodies {status_code,
// request_id, error_type, error_message, error_url} and HTTP Basic auth
// project_id:secret. State is real: organizations and members persist,
// magic-link tokens and OTP codes are single-use and expire, sessions have
// factors, roles and expiry and can be revoked, MFA organizations answer with
// intermediate session tokens, M2M secrets rotate in three steps. Session
// JWTs and M2M access tokens are RS256 with a kid and served by the JWKS
// endpoints.
//
// # Go API
//
//	e, err := stytchemu.New(stytchemu.WithSandbox())   // http.Handler
//	srv, err := stytchemu.Start()                       // listens on 127.0.0.1:0
//	srv, err := stytchemu.Listen(ctx, "127.0.0.1:4010")  // a fixed address
//	defer srv.Close()
//	srv.URL, srv.ProjectID(), srv.Secret()
//
// Options: WithProjectID, WithSecret, WithStartTime, WithLogger,
// WithSandbox, WithRedirectURL.
//
// Test helpers (the HTTP API does all of this too): CreateOrganization,
// CreateMember, CreateSession / CreateSessionWithClaims (a live session and
// its JWT without the HTTP login), CreateM2MClient, SetM2MCustomClaims,
// AddMemberPassword, SignJWT (arbitrary claims, current key).
//
// Clock: Now, Advance, SetNow. Every expiry (magic links, OTP codes, ISTs,
// sessions, JWT iat/nbf/exp, M2M tokens) follows it.
//
// Keys: RotateKeys adds a signing key (old and new are both served: the
// overlap), RetireOldKeys ends the overlap, KeyIDs lists the served kids.
//
// Outbox: Outbox, LastMessage(recipient), ClearOutbox. A Message holds the
// recipient, kind (email/sms), method (magic_link/otp), template
// (login/signup/invite/discovery/mfa), token and URL or code, organization,
// member and times.
//
// Faults: AddFault(Fault{Pattern, Latency, Status, Body, ContentType, Reset,
// Times}), RemoveFault, ClearFaults. Patterns are route templates or globs
// ("POST /v1/b2b/sessions/authenticate", "* /v1/m2m/*", "*").
//
// Counters: Requests(pattern) counts requests per endpoint template (same
// pattern syntax), so a test can assert that no call reached Stytch;
// ResetRequests zeroes them. Routes lists the templates served.
//
// # Control endpoints (emulator only, no Basic auth: a local dev tool)
//
//	GET    /emulator/outbox[?to=addr]   {"messages": [Message...]}
//	DELETE /emulator/outbox
//	GET    /emulator/faults             {"faults": [...]}
//	POST   /emulator/faults             {"pattern","latency":"250ms","status","body","content_type","reset","times"}
//	DELETE /emulator/faults[?id=N]
//	GET    /emulator/requests?pattern=P {"pattern","count"}
//	POST   /emulator/clock/advance      {"duration":"5m"}
//	POST   /emulator/keys/rotate        POST /emulator/keys/retire
//
// They expose live tokens and codes: never serve them beyond loopback or a
// trusted network.
//
// # Decisions where Stytch is silent
//
//   - JWKS endpoints accept requests without credentials (Stytch serves JWKS
//     publicly) but refuse wrong credentials with 401.
//   - A session JWT that does not verify, or whose session is gone, is 404
//     session_not_found (also in X-Stytch-Member-Session[JWT] headers, where
//     an expired JWT of a live session is accepted). An expired JWT of a live session authenticates and a
//     fresh JWT is returned.
//   - M2M token endpoint: both client_secret and next_client_secret are
//     accepted during a rotation (Stytch: "both secrets are valid"); after
//     rotate only the new one; inactive or deleted clients get invalid_client.
//     Errors use the OAuth2 shape {error, error_description, error_uri}.
//   - Email OTP: every unexpired code sent is valid once; SMS OTP: a new send
//     invalidates the previous code (docs/stytch.md).
//   - login_or_signup creates a pending member whatever the organization's
//     email_jit_provisioning says (Stytch's exact refusal is not documented).
//   - Sandbox values (docs/stytch.md) work only with WithSandbox, which also
//     seeds the sandbox organization (email invites allowed, JIT by the
//     stytch.com domain) with sandbox@stytch.com as stytch_admin.
//   - RBAC is Stytch's default policy only: stytch_admin may do everything,
//     stytch_member only acts on itself (stytch.self). A session from another
//     organization is session_authorization_tenancy_error (403).
//   - Every member holds stytch_member, reported as a direct_assignment.
//   - A path with an empty, "." or ".." segment, or a segment that
//     percent-decodes to a dot segment or holds "/", is 404 route_not_found
//     before routing and never a redirect to a "cleaned" path (which
//     net/http's ServeMux would answer). IDs resolve in any letter case;
//     slugs and external IDs match exactly.
//   - Member delete is a soft delete (status "deleted", visible with
//     dangerously_get?include_deleted=true, undone by reactivate); it revokes
//     the member's sessions and pending links. Organization delete is hard.
//   - Error types not in Stytch's published list are the emulator's own and
//     marked in wire.go: bad_request (generic malformed input), route_not_found,
//     organization_slug_already_used, m2m_client_id_already_used,
//     intermediate_session_not_found, member_password_not_found,
//     member_already_active, email_invites_not_allowed,
//     m2m_client_secret_rotation_not_started, pkce_mismatch,
//     member_phone_number_not_found, member_phone_number_already_set.
//   - Search: the operands are {filter_name, filter_value} as in Stytch's
//     SDKs. Members: member_ids, member_emails, member_email_fuzzy,
//     member_is_breakglass, statuses, member_mfa_phone_numbers,
//     member_mfa_phone_number_fuzzy, member_password_exists, member_roles.
//     Organizations: organization_ids, organization_slugs,
//     organization_name_fuzzy, organization_slug_fuzzy, member_emails,
//     member_email_fuzzy, allowed_domains, allowed_domain_fuzzy. M2M:
//     client_id, client_name, scopes. AND and OR both work; cursors are opaque
//     offsets; next_cursor is absent on the last page.
package stytchemu
