// Package stytchemu is an in-memory Stytch: a faithful emulator of the Stytch
// B2B, consumer and M2M endpoints authsvc uses, for tests, authsvc dev mode
// and frontend teams (cmd/stytchemu).
//
// It speaks the real wire protocol (Stytch's OpenAPI document): Stytch's
// paths, JSON field names, status codes, error bodies {status_code,
// request_id, error_type, error_message, error_url} and HTTP Basic auth
// project_id:secret. State is real: organizations and members persist,
// magic-link tokens and OTP codes are single-use and expire, sessions have
// factors, roles and expiry and can be revoked, MFA organizations answer with
// intermediate session tokens, M2M secrets and SCIM bearer tokens rotate in
// three steps. Session
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
// WithSandbox, WithRedirectURL, WithSigningKey, WithProjectType (ProjectB2B,
// the default, or ProjectConsumer) and its shorthand WithConsumer.
//
// # Projects: one Emulator is one project of one type
//
// A Stytch project is either B2B or consumer, with its own project ID,
// secret and signing keys; a deployment that fronts both holds two credential
// sets. The emulator models exactly that: an Emulator is one project, built
// with WithProjectType, and Multi serves several on one address:
//
//	b2b, _ := stytchemu.New()
//	consumer, _ := stytchemu.New(stytchemu.WithConsumer())
//	m, _ := stytchemu.NewMulti(b2b, consumer)  // http.Handler; the first is the default
//	srv, _ := m.Listen(ctx, "127.0.0.1:4010") // srv.Emulator is b2b; srv.Project(id) finds either
//
// Multi sends a request to the project named by its Basic-auth user (the
// project ID); without Basic auth, to the project named by the {project_id}
// of a JWKS or M2M token path, by the ?public_token= of an OAuth start
// endpoint (consumer or B2B), or by ?project_id= on an /emulator/ control call; otherwise (and for unknown credentials) to the default project, which
// answers as Stytch answers unknown credentials. cmd/stytchemu serves a B2B
// and a consumer project this way.
//
// Every project routes every endpoint; a B2B project serves /v1/b2b/..., a
// consumer project /v1/users, /v1/magic_links, /v1/otps and /v1/sessions,
// both serve M2M (/v1/m2m/..., the token endpoint), Connected Apps clients
// (/v1/connected_apps/clients...) and GET
// /v1/sessions/jwks/{project_id} (with their own keys). Routes lists the
// templates of the project's own type.
//
// # B2B passwords
//
// /v1/b2b/passwords/authenticate, strength_check, migrate, email/reset/start,
// email/reset, existing_password/reset, session/reset, email/require_reset
// and discovery/authenticate, discovery/email/reset/start,
// discovery/email/reset hash and check passwords for real (the consumer
// passwords' kit). A session reset needs a password or email factor from the
// last five minutes; a forced reset (require_reset) makes logins answer
// reset_password until a reset. The discovery flows run as cross-organization
// passwords: one password per email address, shared by its members in every
// organization; a discovery reset stores it on all of them and ends their
// sessions. Discovery and organization reset tokens refuse each other.
//
// # B2B OAuth routes
//
//	GET    /v1/b2b/public/oauth/{provider}/start | .../discovery/start (no Basic auth: ?public_token=)
//	GET    /emulator/oauth/{provider}/consent (the stand-in provider's consent page, shared with consumer OAuth)
//	POST   /v1/b2b/oauth/authenticate | oauth/discovery/authenticate (see b2b_oauth.go for the flow)
//	GET    /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/{google|microsoft|hubspot|slack|github}
//
// # Consumer routes
//
//	POST   /v1/users                       POST /v1/users/search
//	GET    /v1/users/{user_id}             PUT  /v1/users/{user_id}
//	DELETE /v1/users/{user_id}             PUT  /v1/users/{user_id}/exchange_primary_factor
//	DELETE /v1/users/emails/{email_id}     DELETE /v1/users/phone_numbers/{phone_id}
//	DELETE /v1/users/passwords/{password_id}
//	DELETE /v1/users/totps/{totp_id}       DELETE /v1/users/webauthn_registrations/{webauthn_registration_id}
//	DELETE /v1/users/oauth/{oauth_user_registration_id}
//	DELETE /v1/users/crypto_wallets/{crypto_wallet_id}
//	DELETE /v1/users/biometric_registrations/{biometric_registration_id}
//	POST   /v1/magic_links (embeddable: returns the token, sends nothing)
//	POST   /v1/magic_links/authenticate    (token, code_verifier for PKCE)
//	POST   /v1/magic_links/email/send | login_or_create | invite | revoke_invite
//	POST   /v1/otps/sms/send | sms/login_or_create | whatsapp/send | whatsapp/login_or_create
//	POST   /v1/otps/email/send | email/login_or_create
//	POST   /v1/otps/authenticate           (method_id + code)
//	GET    /v1/sessions?user_id=           POST /v1/sessions/authenticate | revoke | migrate | exchange_access_token
//	GET    /v1/sessions/jwks/{project_id}
//	POST   /v1/passwords | passwords/authenticate | strength_check | migrate
//	POST   /v1/passwords/email/reset/start | email/reset
//	POST   /v1/passwords/existing_password/reset | session/reset
//	GET    /v1/public/oauth/{provider}/start (no Basic auth: ?public_token=, PublicToken)
//	GET    /emulator/oauth/{provider}/consent (the stand-in provider's consent page)
//	POST   /v1/oauth/attach | oauth/authenticate (see consumer_oauth.go for the flow)
//	B2B SSO (sso.go, sso_flow.go for the round trip):
//	GET    /v1/b2b/sso/{organization_id}; DELETE …/{organization_id}/connections/{connection_id}
//	POST   /v1/b2b/sso/saml|oidc|external/{organization_id}; PUT …/connections/{connection_id}
//	PUT    /v1/b2b/sso/saml/…/url; DELETE …/verification_certificates/{id} | encryption_private_keys/{id}
//	POST   /v1/b2b/sso/authenticate; GET /v1/public/sso/start (no Basic auth: ?public_token=)
//	POST|GET /v1/b2b/sso/callback/{connection_id} (ACS / OIDC redirect URL)
//	       /emulator/idp/saml/{metadata,sso}, /emulator/idp/oidc/{authorize,token,jwks,userinfo}
//	POST   /v1/webauthn/register/start | register | authenticate/start | authenticate
//	PUT    /v1/webauthn/{webauthn_registration_id}
//	GET    /v1/webauthn/credentials/{user_id}/{domain}
//
// WebAuthn runs the real ceremony (go-webauthn): single-use challenges, origin and RP ID checks
// (the domain is the RP ID; https://{domain} and the redirect URL's origin are accepted),
// attestation none and packed, and a signature counter that must increase. Registrations show
// in the user's webauthn_registrations and the session factor is webauthn /
// webauthn_registration.
//
// Consumer session JWTs
// carry iss stytch.com/{project_id}, aud [project_id], sub = user ID, iat, nbf,
// exp (5 minutes), the https://stytch.com/session claim (id, times,
// attributes, authentication_factors, roles) and the custom claims; there is
// no organization claim. They are signed with the consumer project's keys, so
// they do not verify against a B2B project's JWKS.
//
// Consumer test helpers: CreateUser(UserParams), CreateUserSession /
// CreateUserSessionWithClaims (a live session and its JWT without the HTTP
// login), SeedUserFactor (a password, TOTP, WebAuthn, OAuth, crypto-wallet or
// biometric record without its flow, so the factor deletes are testable),
// AddMigrationToken (an external identity provider
// token that sessions/migrate accepts). They fail on a B2B project.
//
// Test helpers (the HTTP API does all of this too): CreateOrganization,
// CreateMember, CreateSession / CreateSessionWithClaims (a live session and
// its JWT without the HTTP login), CreateM2MClient, SetM2MCustomClaims,
// AddMemberPassword, AddMemberOIDCTokens (tokens as if from an OIDC login,
// for the member's oidc_providers route), SignJWT (arbitrary claims, current
// key), AddSCIMGroup and SCIMBearerTokenValid (the IdP side of a SCIM
// connection).
//
// Clock: Now, Advance, SetNow. Every expiry (magic links, OTP codes, ISTs,
// sessions, JWT iat/nbf/exp, M2M tokens) follows it.
//
// Keys: RotateKeys adds a signing key (old and new are both served: the
// overlap), RetireOldKeys ends the overlap, KeyIDs lists the served kids.
//
// Outbox: Outbox, LastMessage(recipient), ClearOutbox. A Message holds the
// recipient, kind (email/sms/whatsapp), method (magic_link/otp), template
// (login/signup/invite/discovery/mfa), token and URL or code, organization,
// member (B2B) or user (consumer) and times.
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
//	POST   /emulator/trusted_auth_tokens {"profile_id","email_address","organization_id","ttl"} → {"token"}
//	POST   /emulator/impersonation_tokens {"member_id","impersonator_id","impersonator_email_address"} → {"impersonation_token"}
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
//   - RBAC: the project's policy is Stytch's default (stytch_admin may do
//     everything, stytch_member only acts on itself, stytch.self) plus a
//     custom policy (WithRBACPolicy); organizations may add custom roles
//     (PUT /v1/b2b/rbac/organizations/{id}). Every authorization_check and
//     every acting member (X-Stytch-Member-Session) is decided by
//     internal/rbac, the function authsvc decides JWT checks with. A session
//     from another organization is session_authorization_tenancy_error (403).
//     See docs/rbac.md.
//   - Every member holds stytch_member, reported as a direct_assignment.
//   - A path with an empty, "." or ".." segment, or a segment that
//     percent-decodes to a dot segment or holds "/", is 404 route_not_found
//     before routing and never a redirect to a "cleaned" path (which
//     net/http's ServeMux would answer). IDs resolve in any letter case;
//     slugs and external IDs match exactly.
//   - Member delete is a soft delete (status "deleted", visible with
//     dangerously_get?include_deleted=true, undone by reactivate); it revokes
//     the member's sessions and pending links. Organization delete is hard.
//   - start_email_update (members_admin.go) sends a magic link (or, with
//     delivery_method EMAIL_OTP, a code) valid 5 minutes to the new address,
//     template email_update, and reserves that address for the member. The
//     member's address changes only when magic_links/authenticate takes the
//     link (or otps/email/authenticate the code with the new address): the
//     old address is retired, the new one verified, and the authentication
//     logs the member in as usual. The member must be active with a verified
//     email; an address in use, retired (until unlink_retired_email) or
//     reserved by another member is duplicate_email.
//   - RBAC actions the API reference does not list, taken from Stytch's
//     SDKs: update.info.email (start_email_update),
//     update.info.delete.mfa-totp (member TOTP delete),
//     update.info.unlink.retired-email, and create for reactivate. Stytch
//     names none for the external_id deletes; an acting member needs every
//     action (*) on stytch.member or stytch.organization.
//   - oidc_providers lists the tokens kept from OIDC logins; with no SSO in
//     the emulator that is empty unless a test adds some
//     (AddMemberOIDCTokens). refresh_token is "" unless
//     include_refresh_token=true.
//   - The member DELETE templates with two segments after "members"
//     (mfa_phone_numbers/{id}, passwords/{id}, {id}/totp, {id}/external_id)
//     share one ServeMux pattern, which cannot hold them side by side; the
//     literal segment wins, and Requests and faults see Stytch's template.
//   - Error types not in Stytch's published list are the emulator's own and
//     marked in wire.go: bad_request (generic malformed input), route_not_found,
//     organization_slug_already_used, m2m_client_id_already_used,
//     intermediate_session_not_found, member_password_not_found,
//     member_already_active, email_invites_not_allowed,
//     m2m_client_secret_rotation_not_started, pkce_mismatch,
//     member_phone_number_not_found, member_phone_number_already_set,
//     scim_connection_not_found, scim_connection_already_exists,
//     scim_token_rotation_not_started (scim.go), retired_email_not_found.
//   - SCIM connections (scim.go): an organization has at most one (a second
//     create is 400 scim_connection_already_exists; get without one is 404
//     scim_connection_not_found). The bearer token is in the create response
//     only and the next token in the rotate/start response only; every other
//     answer has their last four characters. Rotate start makes a next token
//     (again: replaces it), complete swaps it in and the old token stops
//     working, cancel discards it. identity_provider is one of the spec's
//     enum (default generic; microsoft-entra's base_url carries
//     ?aadOptscim062020). A group role assignment must name a group of the
//     connection and a role of the policy (project or organization custom
//     role) other than stytch_member, each pair once: else 400 bad_request
//     naming the entry. Tokens do not expire (expiry times are ""). The
//     IdP-facing SCIM protocol is not served: AddSCIMGroup adds a group as an
//     IdP push would, and SCIMBearerTokenValid answers whether a token opens
//     a connection. Acting members need stytch.scim create, get, update,
//     delete or rotate. The organization carries scim_active_connection while
//     it has a connection; deleting the organization deletes it.
//   - Search: the operands are {filter_name, filter_value} as in Stytch's
//     SDKs. Members: member_ids, member_emails, member_email_fuzzy,
//     member_is_breakglass, statuses, member_mfa_phone_numbers,
//     member_mfa_phone_number_fuzzy, member_password_exists, member_roles.
//     Organizations: organization_ids, organization_slugs,
//     organization_name_fuzzy, organization_slug_fuzzy, member_emails,
//     member_email_fuzzy, allowed_domains, allowed_domain_fuzzy. M2M:
//     client_id, client_name, scopes. AND and OR both work; cursors are opaque
//     offsets; next_cursor is "" on the last page.
//   - Every 2xx body carries every property Stytch's OpenAPI document
//     declares for it. Stytch sends null for a value that does not apply, but
//     the document marks nothing nullable, so a string with no value is "", a
//     free-form object is {}, and an object with required properties that
//     does not apply (session before MFA, mfa_required, member_device,
//     verdict, scim_registration, ...) is left out. coverage_test.go checks
//     this on every response of the package's tests and prints what is left
//     out; it also lists the B2B/M2M operations not served, with reasons.
//
// # B2B sessions from elsewhere: attest, migrate, impersonation
//
//   - sessions/attest (trusted_tokens.go): Stytch keeps trusted auth token
//     profiles in its dashboard; the emulator takes them from its
//     configuration: WithTrustedAuthProfiles, LoadTrustedAuthProfiles (a JSON
//     array of TrustedAuthProfile: profile_id, issuer, audience,
//     public_keys_pem or an inline jwks, attribute_mapping, can_jit_provision)
//     and cmd/stytchemu's -trusted-auth-profiles. ExampleTrustedAuthProfile
//     (dev mode and cmd/stytchemu serve it) is the one whose private key the
//     emulator holds: MintTrustedAuthToken and POST /emulator/trusted_auth_tokens
//     sign tokens for it. A JWKS URL is not fetched: give the keys inline.
//     Verification is golang-jwt's: asymmetric algorithms only, iss, aud, exp
//     (required), nbf and iat with 30 s leeway. A token attests once (profile
//     and token ID remembered). A refused token is 401
//     invalid_trusted_auth_token, an unknown profile 404
//     trusted_auth_token_profile_not_found (both type names are the
//     emulator's). The organization comes from the token's claim or
//     organization_id (400 when neither, or when they differ); an unknown
//     email is JIT-provisioned only when the profile allows it, the token
//     names the organization and the organization's email JIT admits the
//     domain (else 404 member_not_found). The factor is trusted_auth_token /
//     trusted_token_exchange; a passed session of the same member gains it.
//   - sessions/migrate (sessions_migrate.go): the UserInfo endpoint is
//     WithUserInfoURL (cmd/stytchemu -userinfo-url; unset: 400). The emulator
//     calls it with Authorization: Bearer <session_token>, with the state
//     lock released; a non-2xx answer, no email or email_verified false is
//     401 invalid_migration_token; an unreachable endpoint 500. The member
//     must exist (404 member_not_found); the factor is imported / email.
//   - impersonation/authenticate (impersonation.go): tokens come from
//     CreateImpersonationToken or POST /emulator/impersonation_tokens (the
//     stand-in for Stytch's dashboard, naming the impersonator's ID and
//     email), live 5 minutes and are single-use (404
//     impersonation_token_not_found). The session's factor is impersonated /
//     impersonation with impersonated_factor; MFA is never required and a
//     pending member is not activated.
//   - sessions/exchange_access_token (connected_apps_idp.go): see Connected
//     Apps below; the factor is oauth / oauth_access_token_exchange with
//     oauth_access_token_exchange_factor naming the client.
//
// # Connected Apps: Stytch as an OAuth IdP for members
//
//	POST   /v1/connected_apps/clients | clients/search
//	GET|PUT|DELETE /v1/connected_apps/clients/{client_id}
//	POST   /v1/connected_apps/clients/{client_id}/secrets/rotate/start | rotate | rotate/cancel
//	POST   /v1/b2b/idp/oauth/authorize/start | /v1/b2b/idp/oauth/authorize
//	POST   /v1/public/{project_id}/oauth2/token (grant_type authorization_code | refresh_token)
//	GET    /v1/b2b/organizations/{organization_id}/connected_apps[/{connected_app_id}]
//	GET    /v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps
//	POST   /v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps/{connected_app_id}/revoke
//	POST   /v1/b2b/sessions/exchange_access_token
//	(consumer twins: /v1/idp/oauth/authorize/start | authorize, /v1/users/{user_id}/connected_apps[/{id}/revoke],
//	/v1/sessions/exchange_access_token)
//
// Decisions:
//
//   - Clients (connected_apps.go) are first_party, third_party or their
//     _public variants. A confidential client's secret is shown once (create;
//     next_client_secret on rotate/start) and stored as a SHA-256 hash; a
//     public client has none ("" in the create answer) and must use PKCE.
//     full_access_allowed is refused for third-party clients;
//     access_token_expiry_minutes is 5 to 1440 (default 60). Deleting a
//     client drops its grants, codes and refresh tokens.
//   - authorize/start and authorize act for the member of session_token /
//     session_jwt (or organization_id + member_id). Refused as API errors,
//     never redirected: unknown or inactive client (404
//     connected_app_not_found), redirect_uri not registered exactly (400
//     invalid_redirect_uri), response_type other than code, a prompt other
//     than none/login/consent, the organization's first/third-party Connected
//     Apps policy (403 connected_app_not_allowed_for_organization), and on
//     authorize a scope that cannot be granted (400 invalid_scope: the
//     emulator knows openid, profile, email, offline_access and full_access,
//     the last for first-party clients allowed it) or a public client without
//     code_challenge (400 pkce_required). Consent is required for a
//     third-party client, for offline_access unless
//     bypass_consent_for_offline_access, and with prompt=consent, except for
//     scopes the member already granted. consent_granted=false answers a
//     redirect_uri with error=access_denied (prompt=none while consent is
//     required: error=consent_required); granted stores the grant and answers
//     a code (single use, 5 minutes, bound to client, redirect URI and S256
//     code_challenge) in the redirect_uri, with state.
//   - Token endpoint: a confidential client authenticates with its secret
//     (current or pending), a public one by client_id and code_verifier. The
//     access token is an RS256 JWT of the project's keys (same JWKS as
//     sessions): sub = member ID, scope, client_id, the organization claim,
//     aud = project ID (plus access_token_custom_audience), exp from the
//     client's expiry. offline_access adds a refresh_token; openid an
//     id_token (aud = client ID, nonce, email / name by scope). Refresh tokens
//     rotate: each is used once; a revoked grant refuses them (invalid_grant).
//   - Revoke drops the member's grant to the app with its codes and refresh
//     tokens; access tokens already issued live until they expire.
//   - sessions/exchange_access_token takes an access token of this project
//     with full_access, issued at most 5 minutes ago, whose grant still
//     stands: a member session (duration and custom claims as for other
//     authenticate calls). A token that does not verify, has expired or is
//     no Connected Apps token is 404 idp_access_token_not_found; without
//     full_access 403 access_token_missing_full_access_scope; older than 5
//     minutes 401 access_token_too_old. The error types are the emulator's
//     names where Stytch's reference was not checked.
//
// # Decisions for consumer projects
//
//   - A route of the other project type is answered as Stytch answers it:
//     400 invalid_consumer_endpoint for a consumer route on a B2B project,
//     400 invalid_b2b_endpoint for a B2B route on a consumer project. It is
//     answered after the Basic-auth check and counted under the route's
//     template like any request.
//   - Users hold the role stytch_user (plus explicit roles). authorization_check
//     on sessions/authenticate: an explicit stytch_admin may do everything,
//     stytch_user only acts on the stytch.self resource; otherwise 403
//     session_authorization_error.
//   - Authenticate calls without session_duration_minutes create no session:
//     session_token and session_jwt are "" (the spec requires both fields) and
//     session is absent. With session_token or session_jwt, the factor joins
//     that session (which must be the same user's, else 400 bad_request) and
//     a duration extends it. reset_sessions is always false.
//   - Magic links: send needs an existing address (404 email_not_found) unless
//     user_id or a session names the user, in which case a new address is
//     added unverified and becomes verified when a link to it is
//     authenticated (Stytch's 5-minute removal of unverified addresses is not
//     emulated). A pending user gets a sign-up link, an active one a login
//     link; login_or_create sends a sign-up link to a user it creates. Invite
//     creates a pending user; inviting an active user is 400
//     user_already_active. revoke_invite spends the address's live invite
//     links (404 invite_not_found when there is none). An embeddable link
//     verifies nothing; its factor is delivery_method "embedded" and its
//     method_id is "". The redirect token type is magic_links.
//   - PKCE: a link sent with code_challenge needs the matching code_verifier
//     (400 pkce_mismatch otherwise); a refused attempt does not spend it.
//   - OTPs: six digits; one live code per method_id (a new send replaces the
//     previous code, so the old one is 401 unable_to_auth_otp_code); a
//     method_id with no code is 404 otp_code_not_found; a wrong code is 401
//     and, as for B2B, does not burn the live code (no attempt counter).
//     Authenticating marks the email or phone verified and a pending user
//     active. Sends to an unknown phone or address are 404
//     phone_number_not_found / email_not_found.
//   - Sandbox (WithSandbox on a consumer project): the sandbox user
//     SandboxUserID holds sandbox@stytch.com and +10000000000; sends to them
//     answer 200 with its IDs and deliver nothing; code 000000 authenticates
//     with their method_id; the three sandbox magic-link tokens and the two
//     sandbox session tokens behave as documented.
//   - sessions/migrate: Stytch asks the project's UserInfo endpoint; the
//     emulator accepts only tokens registered with AddMigrationToken (else 401
//     invalid_migration_token) and finds or creates the user by email; the
//     factor is type "imported".
//   - Connected Apps for users (connected_apps_idp.go) follow the B2B rules
//     of "Connected Apps" below: POST /v1/idp/oauth/authorize/start and
//     /v1/idp/oauth/authorize act for the user of session_token / session_jwt
//     (or user_id); GET /v1/users/{user_id}/connected_apps and POST
//     .../connected_apps/{connected_app_id}/revoke; sessions/exchange_access_token
//     gives a user session (60 minutes unless session_duration_minutes says
//     otherwise). Access and ID tokens carry no organization claim.
//   - attributes, options (IP and user-agent matching), locale, template IDs
//     and telemetry_id are accepted and ignored.
//   - exchange_primary_factor works only for a user with exactly one factor
//     (400 too_many_factors otherwise); it replaces that factor.
//   - User search operands are {filter_name, filter_value}: user_id, status,
//     email_address, email_id, email_domain, email_address_fuzzy,
//     email_verified, phone_number, phone_id, phone_number_fuzzy,
//     phone_verified, full_name_fuzzy, password_exists, roles,
//     created_at_greater_than, created_at_less_than (RFC 3339).
//   - Passwords (passwords.go) use internal/passwords: argon2id hashes
//     (WithPasswordHashParams, default passwords.TestParams), the strength
//     policy of WithPasswordPolicy (default zxcvbn with breach detection, as
//     Stytch's default). create and the three resets refuse a password on the
//     breached list with 400 breached_password and one below the policy (or
//     containing the email's local part) with 400 weak_password. migrate
//     stores the imported hash (any of the nine hash types, verified for
//     real) on the user with that email, creating it when there is none; the
//     first successful authenticate replaces it with a native hash. A wrong
//     password, or a user without one, is 401 unauthorized_credentials; an
//     unknown address is 404 email_not_found (as Stytch answers both). A
//     correct password that is on the breached list is 400 reset_password and
//     sets user.password.requires_reset; only a reset clears it. reset/start
//     mails a single-use token (Message template TemplateResetPassword,
//     method MethodMagicLink; 5 to 10080 minutes, default 30; PKCE as for
//     magic links); a failed reset (weak password, PKCE) leaves it usable.
//     Every reset revokes the user's other sessions; session/reset keeps the
//     session it was called with and needs a password, email magic-link or
//     email OTP factor from the last 5 minutes in it (400
//     session_too_old_to_reset_password). Password factors are type
//     "password", delivery_method "knowledge". reset_password's HTTP status is
//     not documented; the emulator answers 400.
//   - B2B passwords (b2b_passwords.go) share that kit: authenticate,
//     strength_check (luds_feedback / zxcvbn_feedback), migrate (creates an
//     active member when the organization has none with the email), email
//     reset start and reset. Authenticate and reset are primary factors
//     (type "password", delivery_method "knowledge"): an organization or
//     member requiring MFA gets an intermediate session. An unknown email, a
//     member without a password and a wrong password are all 401
//     unauthorized_credentials. The reset token (TemplateResetPassword, in the
//     outbox with the organization and member) is single use; a reset ends the
//     member's other sessions. Existing-password reset, session reset and the
//     discovery password routes are not served yet.
//   - Emulator-own consumer error types (marked in wire.go): too_many_factors,
//     user_already_active, invite_not_found, invalid_migration_token. The
//     other consumer types it answers are Stytch's.
package stytchemu
