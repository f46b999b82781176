package stytchemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// routes builds the mux. Patterns are Stytch's endpoint templates, so
// r.Pattern is the template counted by Requests and matched by faults.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	shared := map[string]http.Handler{}
	for _, rt := range e.stytchRoutes() {
		if _, ok := memberDeletes[rt.pattern]; ok {
			shared[rt.pattern] = e.serveRoute(rt)
			continue
		}
		mux.Handle(rt.pattern, e.serveRoute(rt))
	}
	if len(shared) > 0 {
		mux.Handle("DELETE /v1/b2b/organizations/{organization_id}/members/{first}/{second}", memberDeleteMux(shared, http.HandlerFunc(e.notFound)))
	}
	mux.HandleFunc("/", e.notFound)
	mux.HandleFunc("GET /emulator/outbox", e.handleOutbox)
	mux.HandleFunc("DELETE /emulator/outbox", e.handleClearOutbox)
	mux.HandleFunc("GET /emulator/faults", e.handleListFaults)
	mux.HandleFunc("POST /emulator/faults", e.handleAddFault)
	mux.HandleFunc("DELETE /emulator/faults", e.handleClearFaults)
	mux.HandleFunc("GET /emulator/requests", e.handleRequests)
	mux.HandleFunc("POST /emulator/clock/advance", e.handleAdvance)
	mux.HandleFunc("POST /emulator/keys/rotate", e.handleRotateKeys)
	mux.HandleFunc("POST /emulator/keys/retire", e.handleRetireKeys)
	mux.HandleFunc("GET /emulator/oauth/{provider}/consent", e.handleOAuthConsent)
	mux.HandleFunc("POST "+SSOCallbackPath, e.handleSSOCallback)
	mux.HandleFunc("GET "+SSOCallbackPath, e.handleSSOCallback)
	mux.HandleFunc("GET "+IdPSAMLMetadataPath, e.handleIdPMetadata)
	mux.HandleFunc(IdPSAMLSSOPath, e.handleIdPSSO)
	mux.HandleFunc(IdPOIDCIssuerPath+"/authorize", e.handleIdPAuthorize)
	mux.HandleFunc("POST "+IdPOIDCIssuerPath+"/token", e.handleIdPToken)
	mux.HandleFunc("GET "+IdPOIDCIssuerPath+"/jwks", e.handleIdPJWKS)
	mux.HandleFunc("GET "+IdPOIDCIssuerPath+"/userinfo", e.handleIdPUserinfo)
	mux.HandleFunc("GET "+IdPOIDCIssuerPath+"/.well-known/openid-configuration", e.handleIdPDiscovery)
	mux.HandleFunc("GET /emulator/webhooks", e.handleListWebhooks)
	mux.HandleFunc("POST /emulator/webhooks", e.handleAddWebhook)
	mux.HandleFunc("DELETE /emulator/webhooks", e.handleClearWebhooks)
	mux.HandleFunc("POST /emulator/trusted_auth_tokens", e.handleMintTrustedAuthToken)
	mux.HandleFunc("POST /emulator/impersonation_tokens", e.handleCreateImpersonationToken)
	return mux
}

// memberDeletes are Stytch's member DELETE templates with two segments after
// "members": Go's ServeMux refuses them side by side (".../members/
// mfa_phone_numbers/totp" would match two of them, neither more specific),
// so one mux pattern takes them all and memberDeleteMux picks the template.
// Each value names the template's two path parameters ("" for a literal).
var memberDeletes = map[string][2]string{
	"DELETE /v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}":  {"", "member_id"},
	"DELETE /v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}": {"", "member_password_id"},
	"DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/totp":               {"member_id", ""},
	"DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/external_id":        {"member_id", ""},
}

// memberDeleteMux routes a DELETE .../members/{first}/{second} to the
// template of memberDeletes it matches, literal segments first (as Stytch
// does: mfa_phone_numbers/... and passwords/... before {member_id}/...), and
// sets that template as r.Pattern and its path parameters.
func memberDeleteMux(handlers map[string]http.Handler, notFound http.Handler) http.Handler {
	const prefix = "DELETE /v1/b2b/organizations/{organization_id}/members/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, second := r.PathValue("first"), r.PathValue("second")
		try := func(pattern string) bool {
			h, ok := handlers[pattern]
			if !ok {
				return false
			}
			params := memberDeletes[pattern]
			r.Pattern = pattern // Stytch's template, as for every other route
			if params[0] != "" {
				r.SetPathValue(params[0], first)
			}
			if params[1] != "" {
				r.SetPathValue(params[1], second)
			}
			h.ServeHTTP(w, r)
			return true
		}
		switch {
		case first == "mfa_phone_numbers" && try(prefix+"mfa_phone_numbers/{member_id}"):
		case first == "passwords" && try(prefix+"passwords/{member_password_id}"):
		case second == "totp" && try(prefix+"{member_id}/totp"):
		case second == "external_id" && try(prefix+"{member_id}/external_id"):
		default:
			notFound.ServeHTTP(w, r)
		}
	})
}

func (e *Emulator) stytchRoutes() []route {
	return append([]route{
		// B2B magic links
		{"POST /v1/b2b/magic_links/email/login_or_signup", authRequired, e.mlLoginOrSignup},
		{"POST /v1/b2b/magic_links/email/invite", authRequired, e.mlInvite},
		{"POST /v1/b2b/magic_links/email/discovery/send", authRequired, e.mlDiscoverySend},
		{"POST /v1/b2b/magic_links/authenticate", authRequired, e.mlAuthenticate},
		{"POST /v1/b2b/magic_links/discovery/authenticate", authRequired, e.mlDiscoveryAuthenticate},
		// B2B OTPs
		{"POST /v1/b2b/otps/email/login_or_signup", authRequired, e.otpEmailLoginOrSignup},
		{"POST /v1/b2b/otps/email/authenticate", authRequired, e.otpEmailAuthenticate},
		{"POST /v1/b2b/otps/email/discovery/send", authRequired, e.otpEmailDiscoverySend},
		{"POST /v1/b2b/otps/email/discovery/authenticate", authRequired, e.otpEmailDiscoveryAuthenticate},
		{"POST /v1/b2b/otps/sms/send", authRequired, e.otpSMSSend},
		{"POST /v1/b2b/otps/sms/authenticate", authRequired, e.otpSMSAuthenticate},
		// B2B TOTPs and recovery codes
		{"POST /v1/b2b/totp", authRequired, e.b2bTOTPCreate},
		{"POST /v1/b2b/totp/authenticate", authRequired, e.b2bTOTPAuthenticate},
		{"POST /v1/b2b/totp/migrate", authRequired, e.b2bTOTPMigrate},
		{"GET /v1/b2b/recovery_codes/{organization_id}/{member_id}", authRequired, e.b2bRecoveryCodesGet},
		{"POST /v1/b2b/recovery_codes/rotate", authRequired, e.b2bRecoveryCodesRotate},
		{"POST /v1/b2b/recovery_codes/recover", authRequired, e.b2bRecoveryCodesRecover},
		// B2B passwords
		{"POST /v1/b2b/passwords/authenticate", authRequired, e.b2bPasswordAuthenticate},
		{"POST /v1/b2b/passwords/strength_check", authRequired, e.b2bPasswordStrengthCheck},
		{"POST /v1/b2b/passwords/migrate", authRequired, e.b2bPasswordMigrate},
		{"POST /v1/b2b/passwords/email/reset/start", authRequired, e.b2bPasswordResetStart},
		{"POST /v1/b2b/passwords/email/reset", authRequired, e.b2bPasswordResetByEmail},
		{"POST /v1/b2b/passwords/existing_password/reset", authRequired, e.b2bPasswordResetExisting},
		{"POST /v1/b2b/passwords/session/reset", authRequired, e.b2bPasswordResetBySession},
		{"POST /v1/b2b/passwords/email/require_reset", authRequired, e.b2bPasswordRequireReset},
		{"POST /v1/b2b/passwords/discovery/authenticate", authRequired, e.b2bPasswordDiscoveryAuthenticate},
		{"POST /v1/b2b/passwords/discovery/email/reset/start", authRequired, e.b2bPasswordDiscoveryResetStart},
		{"POST /v1/b2b/passwords/discovery/email/reset", authRequired, e.b2bPasswordDiscoveryReset},
		// B2B sessions
		{"GET /v1/b2b/sessions", authRequired, e.sessionsGet},
		{"POST /v1/b2b/sessions/authenticate", authRequired, e.sessionsAuthenticate},
		{"POST /v1/b2b/sessions/revoke", authRequired, e.sessionsRevoke},
		{"POST /v1/b2b/sessions/exchange", authRequired, e.sessionsExchange},
		{"POST /v1/b2b/sessions/attest", authRequired, e.sessionsAttest},
		{"POST /v1/b2b/sessions/migrate", authRequired, e.sessionsMigrate},
		{"POST /v1/b2b/impersonation/authenticate", authRequired, e.impersonationAuthenticate},
		{"GET /v1/b2b/sessions/jwks/{project_id}", authOptional, e.jwks},
		{"GET /v1/sessions/jwks/{project_id}", authOptional, e.jwks},
		// B2B discovery
		{"POST /v1/b2b/discovery/organizations", authRequired, e.discoveryListOrganizations},
		{"POST /v1/b2b/discovery/organizations/create", authRequired, e.discoveryCreateOrganization},
		{"POST /v1/b2b/discovery/intermediate_sessions/exchange", authRequired, e.discoveryExchange},
		// B2B organizations
		{"POST /v1/b2b/organizations", authRequired, e.orgCreate},
		{"POST /v1/b2b/organizations/search", authRequired, e.orgSearch},
		{"GET /v1/b2b/organizations/{organization_id}", authRequired, e.orgGet},
		{"PUT /v1/b2b/organizations/{organization_id}", authRequired, e.orgUpdate},
		{"DELETE /v1/b2b/organizations/{organization_id}", authRequired, e.orgDelete},
		{"GET /v1/b2b/organizations/{organization_id}/metrics", authRequired, e.orgMetrics},
		{"DELETE /v1/b2b/organizations/{organization_id}/external_id", authRequired, e.orgDeleteExternalID},
		// B2B members
		{"POST /v1/b2b/organizations/{organization_id}/members", authRequired, e.memberCreate},
		{"GET /v1/b2b/organizations/{organization_id}/member", authRequired, e.memberGet},
		{"PUT /v1/b2b/organizations/{organization_id}/members/{member_id}", authRequired, e.memberUpdate},
		{"DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}", authRequired, e.memberDelete},
		{"POST /v1/b2b/organizations/members/search", authRequired, e.memberSearch},
		{"GET /v1/b2b/organizations/members/dangerously_get/{member_id}", authRequired, e.memberDangerouslyGet},
		{"PUT /v1/b2b/organizations/{organization_id}/members/{member_id}/reactivate", authRequired, e.memberReactivate},
		{"DELETE /v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}", authRequired, e.memberDeleteMFAPhone},
		{"DELETE /v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}", authRequired, e.memberDeletePassword},
		{"POST /v1/b2b/organizations/{organization_id}/members/{member_id}/start_email_update", authRequired, e.memberStartEmailUpdate},
		{"DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/totp", authRequired, e.memberDeleteTOTP},
		{"DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/external_id", authRequired, e.memberDeleteExternalID},
		{"POST /v1/b2b/organizations/{organization_id}/members/{member_id}/unlink_retired_email", authRequired, e.memberUnlinkRetiredEmail},
		{"GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oidc_providers", authRequired, e.memberOIDCProviders},
		// B2B RBAC
		{"GET /v1/b2b/rbac/policy", authRequired, e.rbacPolicy},
		{"GET /v1/b2b/rbac/organizations/{organization_id}", authRequired, e.rbacOrgPolicyGet},
		{"PUT /v1/b2b/rbac/organizations/{organization_id}", authRequired, e.rbacOrgPolicySet},
		// B2B SSO (sso.go, sso_flow.go)
		{"GET /v1/b2b/sso/{organization_id}", authRequired, e.ssoGetConnections},
		{"DELETE /v1/b2b/sso/{organization_id}/connections/{connection_id}", authRequired, e.ssoDeleteConnection},
		{"POST /v1/b2b/sso/saml/{organization_id}", authRequired, e.ssoSAMLCreate},
		{"PUT /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}", authRequired, e.ssoSAMLUpdate},
		{"PUT /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url", authRequired, e.ssoSAMLUpdateByURL},
		{"DELETE /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/verification_certificates/{certificate_id}", authRequired, e.ssoDeleteVerificationCert},
		{"DELETE /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/encryption_private_keys/{private_key_id}", authRequired, e.ssoDeleteEncryptionKey},
		{"POST /v1/b2b/sso/oidc/{organization_id}", authRequired, e.ssoOIDCCreate},
		{"PUT /v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}", authRequired, e.ssoOIDCUpdate},
		{"POST /v1/b2b/sso/external/{organization_id}", authRequired, e.ssoExternalCreate},
		{"PUT /v1/b2b/sso/external/{organization_id}/connections/{connection_id}", authRequired, e.ssoExternalUpdate},
		{"POST /v1/b2b/sso/authenticate", authRequired, e.ssoAuthenticate},
		{SSOStartTemplate, authNone, e.ssoStart},
		// B2B SCIM connection administration
		{"POST /v1/b2b/scim/{organization_id}/connection", authRequired, e.scimCreate},
		{"GET /v1/b2b/scim/{organization_id}/connection", authRequired, e.scimGet},
		{"GET /v1/b2b/scim/{organization_id}/connection/{connection_id}", authRequired, e.scimGetGroups},
		{"PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}", authRequired, e.scimUpdate},
		{"DELETE /v1/b2b/scim/{organization_id}/connection/{connection_id}", authRequired, e.scimDelete},
		{"POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/start", authRequired, e.scimRotateStart},
		{"POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/complete", authRequired, e.scimRotateComplete},
		{"POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/cancel", authRequired, e.scimRotateCancel},
		// M2M
		{"POST /v1/m2m/clients", authRequired, e.m2mCreate},
		{"POST /v1/m2m/clients/search", authRequired, e.m2mSearch},
		{"GET /v1/m2m/clients/{client_id}", authRequired, e.m2mGet},
		{"PUT /v1/m2m/clients/{client_id}", authRequired, e.m2mUpdate},
		{"DELETE /v1/m2m/clients/{client_id}", authRequired, e.m2mDelete},
		{"POST /v1/m2m/clients/{client_id}/secrets/rotate/start", authRequired, e.m2mRotateStart},
		{"POST /v1/m2m/clients/{client_id}/secrets/rotate", authRequired, e.m2mRotate},
		{"POST /v1/m2m/clients/{client_id}/secrets/rotate/cancel", authRequired, e.m2mRotateCancel},
		{"POST /v1/public/{project_id}/oauth2/token", authNone, e.m2mToken},
		// Connected Apps (connected_apps.go, connected_apps_idp.go)
		{"POST /v1/connected_apps/clients", authRequired, e.caCreate},
		{"POST /v1/connected_apps/clients/search", authRequired, e.caSearch},
		{"GET /v1/connected_apps/clients/{client_id}", authRequired, e.caGet},
		{"PUT /v1/connected_apps/clients/{client_id}", authRequired, e.caUpdate},
		{"DELETE /v1/connected_apps/clients/{client_id}", authRequired, e.caDelete},
		{"POST /v1/connected_apps/clients/{client_id}/secrets/rotate/start", authRequired, e.caRotateStart},
		{"POST /v1/connected_apps/clients/{client_id}/secrets/rotate", authRequired, e.caRotate},
		{"POST /v1/connected_apps/clients/{client_id}/secrets/rotate/cancel", authRequired, e.caRotateCancel},
		{"POST /v1/b2b/idp/oauth/authorize/start", authRequired, e.idpAuthorizeStart},
		{"POST /v1/b2b/idp/oauth/authorize", authRequired, e.idpAuthorize},
		{"POST /v1/b2b/sessions/exchange_access_token", authRequired, e.b2bExchangeAccessToken},
		{"GET /v1/b2b/organizations/{organization_id}/connected_apps", authRequired, e.orgConnectedApps},
		{"GET /v1/b2b/organizations/{organization_id}/connected_apps/{connected_app_id}", authRequired, e.orgConnectedApp},
		{"GET /v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps", authRequired, e.memberConnectedApps},
		{"POST /v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps/{connected_app_id}/revoke", authRequired, e.memberRevokeConnectedApp},
	}, slices.Concat(e.b2bOAuthRoutes(), e.consumerRoutes())...)
}

// Routes returns the endpoint templates the emulator serves for its project
// type, e.g. "POST /v1/b2b/sessions/authenticate". Routes of the other
// project type are routed too, but only to answer wrongProjectType.
func (e *Emulator) Routes() []string {
	rts := e.stytchRoutes()
	out := make([]string, 0, len(rts))
	for _, rt := range rts {
		if e.serves(kindOf(rt.pattern)) {
			out = append(out, rt.pattern)
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
//
// A path that is not all plain segments (see plainSegments) is answered as Stytch answers any path
// it has no endpoint for, 404 route_not_found, before the mux sees it: http.ServeMux would "clean"
// it and redirect, which Stytch never does, and a client that follows the redirect acts on another
// resource (DELETE …/members/.. would land on the organization).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !plainSegments(r.URL.EscapedPath()) {
		e.notFound(w, r)
		return
	}
	e.mux.ServeHTTP(w, r)
}

// plainSegments reports whether every segment of the escaped path p is non-empty and, decoded, is
// neither "." nor ".." and holds no "/" (so %2e%2e and a%2Fb are refused too).
func plainSegments(p string) bool {
	for s := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		if s == "" {
			return false
		}
		if d, err := url.PathUnescape(s); err == nil && (d == "." || d == ".." || strings.Contains(d, "/")) {
			return false
		}
	}
	return true
}

// notFound answers unknown paths (and known paths with the wrong method) in
// Stytch's error shape. It is counted under "METHOD /path".
func (e *Emulator) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/emulator/") {
		http.NotFound(w, r)
		return
	}
	key := r.Method + " " + r.URL.Path
	e.count(key)
	requestID := "request-id-test-" + newUUID()
	if e.applyFault(w, r, key, requestID) {
		return
	}
	writeAPIError(w, requestID, newErr(http.StatusNotFound, errRouteNotFound, "No endpoint %s %s.", r.Method, r.URL.Path))
}

func (e *Emulator) jwks(rq *request) (any, error) {
	if rq.r.PathValue("project_id") != e.projectID {
		return nil, badRequest("The project_id in the path does not match this project.")
	}
	return obj{"keys": e.keys.jwks()}, nil
}

// --- emulator control endpoints (no Basic auth: a local dev tool) ---

func (e *Emulator) handleOutbox(w http.ResponseWriter, r *http.Request) {
	msgs := e.Outbox()
	if to := r.URL.Query().Get("to"); to != "" {
		filtered := msgs[:0]
		for _, m := range msgs {
			if strings.EqualFold(m.To, to) {
				filtered = append(filtered, m)
			}
		}
		msgs = filtered
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

func (e *Emulator) handleClearOutbox(w http.ResponseWriter, _ *http.Request) {
	e.ClearOutbox()
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) handleListFaults(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	list := e.faultList()
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"faults": list})
}

func (e *Emulator) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var j faultJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&j); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be a JSON fault"})
		return
	}
	f, err := j.toFault()
	if err == nil {
		j.ID, err = e.AddFault(f)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (e *Emulator) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	if id := r.URL.Query().Get("id"); id != "" {
		var n int
		if err := json.Unmarshal([]byte(id), &n); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "id must be an integer"})
			return
		}
		e.RemoveFault(n)
	} else {
		e.ClearFaults()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) handleRequests(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("pattern")
	if p == "" {
		p = "*"
	}
	writeJSON(w, http.StatusOK, map[string]any{"pattern": p, "count": e.Requests(p)})
}

func (e *Emulator) handleAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Duration string `json:"duration"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": `body must be {"duration": "5m"}`})
		return
	}
	d, err := parseDuration(body.Duration)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	e.Advance(d)
	writeJSON(w, http.StatusOK, map[string]any{"now": rfc3339(e.Now())})
}

func (e *Emulator) handleRotateKeys(w http.ResponseWriter, _ *http.Request) {
	kid, err := e.RotateKeys()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "key generation failed"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kid": kid, "kids": e.KeyIDs()})
}

func (e *Emulator) handleRetireKeys(w http.ResponseWriter, _ *http.Request) {
	e.RetireOldKeys()
	writeJSON(w, http.StatusOK, map[string]any{"kids": e.KeyIDs()})
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration: %w", err)
	}
	if d < 0 {
		return 0, errors.New("duration must not be negative")
	}
	return d, nil
}
