package stytchemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// B2B OAuth. The flow shares its stand-in provider with consumer OAuth (consumer_oauth.go):
//
//  1. GET /v1/b2b/public/oauth/{provider}/start?public_token=...&organization_id=... (or
//     organization_slug) starts a login into one organization; .../discovery/start starts a
//     discovery flow. Both check the public token, the redirect URLs and pkce_code_challenge,
//     then redirect to the consent page;
//  2. the consent page (GET /emulator/oauth/{provider}/consent) names the account (email,
//     subject, full name and tenant: the Slack workspace, HubSpot portal, GitHub organization or
//     Google/Microsoft domain; empty: the email's domain) and redirects to the login URL (a member
//     of the organization has that identity or address), the sign-up URL (anyone else) or the
//     discovery URL, with stytch_token_type=oauth or discovery_oauth and a token;
//  3. POST /v1/b2b/oauth/authenticate redeems a login token once (PKCE checked): the member
//     with the provider identity, else with the address, else one JIT-provisioned by allowed
//     email domain or by allowed OAuth tenant; the login then ends like every primary factor
//     (authflow.go: a session, or an intermediate session when MFA is due);
//     POST /v1/b2b/oauth/discovery/authenticate redeems a discovery token for an intermediate
//     session and the organizations the address can enter (discovery.go).
//
// Each redeemed token records the member's OAuth registration and the provider's tokens
// (access, refresh, id token, scopes), which GET .../members/{member_id}/oauth_providers/{provider}
// serves. A discovery token records them on the address's existing members; a member created
// later by the intermediate-session exchange has none until it signs in with OAuth again.

// b2bOAuthProviderSlugs are the providers of B2B OAuth, in Stytch's spelling.
var b2bOAuthProviderSlugs = []string{"google", "microsoft", "hubspot", "slack", "github"}

// B2BOAuthProviders returns the provider names the B2B start endpoints accept.
func B2BOAuthProviders() []string { return slices.Clone(b2bOAuthProviderSlugs) }

func findB2BOAuthProvider(slug string) (oauthProvider, bool) {
	if !slices.Contains(b2bOAuthProviderSlugs, strings.ToLower(slug)) {
		return oauthProvider{}, false
	}
	return findOAuthProvider(slug)
}

// B2B OAuth start route templates (not in Stytch's OpenAPI document: browsers call them).
const (
	B2BOAuthStartTemplate          = "GET /v1/b2b/public/oauth/{provider}/start"
	B2BOAuthDiscoveryStartTemplate = "GET /v1/b2b/public/oauth/{provider}/discovery/start"
)

// Error types of B2B OAuth (names, not credentials).
const (
	errOAuthRegistrationNotFound = "oauth_registration_not_found"
	errAuthMethodNotAllowed      = "unauthorized_auth_method"
	errJITNotAllowed             = "no_jit_provisioning_allowed"
)

// b2bOAuthTarget is where a B2B flow leads: an organization's login, or discovery.
type b2bOAuthTarget struct {
	orgID     string
	discovery bool
}

// oauthGrant is what the stand-in provider issued to a member at its last OAuth sign-in.
type oauthGrant struct {
	provider     oauthProvider
	subject      string
	tenant       string
	accessToken  string
	refreshToken string
	idToken      string
	scopes       []string
	botToken     string // Slack's bot token
	expiresAt    time.Time
}

// GET /v1/b2b/public/oauth/{provider}/start and .../discovery/start.
func (e *Emulator) b2bOAuthStart(discovery bool) handlerFunc {
	return func(rq *request) (any, error) {
		p, ok := findB2BOAuthProvider(rq.r.PathValue("provider"))
		if !ok {
			return nil, badRequest("The OAuth provider is not one B2B OAuth supports (google, microsoft, hubspot, slack, github).").withType(errInvalidOAuthProvider)
		}
		q := rq.r.URL.Query()
		f, aerr := e.oauthStartQuery(q, p, "pkce_code_challenge", rq.now)
		if aerr != nil {
			return nil, aerr
		}
		f.b2b = &b2bOAuthTarget{discovery: discovery}
		if discovery {
			if f.loginURL, aerr = absoluteURL("discovery_redirect_url", q.Get("discovery_redirect_url"), e.redirectURL); aerr != nil {
				return nil, aerr
			}
		} else {
			ref := q.Get("organization_id")
			if ref == "" {
				ref = q.Get("slug")
			}
			if ref == "" {
				ref = q.Get("organization_slug")
			}
			org, aerr := e.orgByField(ref)
			if aerr != nil {
				return nil, aerr
			}
			f.b2b.orgID = org.OrganizationID
			if f.loginURL, aerr = absoluteURL("login_redirect_url", q.Get("login_redirect_url"), e.redirectURL); aerr != nil {
				return nil, aerr
			}
			if f.signupURL, aerr = absoluteURL("signup_redirect_url", q.Get("signup_redirect_url"), e.redirectURL); aerr != nil {
				return nil, aerr
			}
		}
		e.oauthState().prune(rq.now)
		return e.beginOAuthFlow(f), nil
	}
}

// b2bOAuthRedirect picks the redirect URL and token type of a granted B2B flow. Caller holds e.mu.
func (e *Emulator) b2bOAuthRedirect(f *oauthFlow, t *oauthToken) (string, string) {
	if f.b2b.discovery {
		return f.loginURL, "discovery_oauth"
	}
	if m, _ := e.oauthMember(f.b2b.orgID, t.provider, t.subject); m != nil {
		return f.loginURL, "oauth"
	}
	if e.st.memberByEmail(f.b2b.orgID, t.email) != nil {
		return f.loginURL, "oauth"
	}
	return f.signupURL, "oauth"
}

// oauthMember finds the member of org holding the provider identity, with its registration.
func (e *Emulator) oauthMember(orgID string, p oauthProvider, subject string) (*member, obj) {
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if m.OrganizationID != orgID || m.Status == statusDeleted {
			continue
		}
		for _, r := range m.OAuthRegistrations {
			if reg, ok := r.(obj); ok && reg["provider_type"] == p.name && reg["provider_subject"] == subject {
				return m, reg
			}
		}
	}
	return nil, nil
}

// tenantEligible reports whether org admits new members of the provider tenant (Stytch's
// allowed_oauth_tenants: a list of tenant IDs per provider, for Slack, HubSpot and GitHub).
func tenantEligible(org *organization, p oauthProvider, tenant string) bool {
	if org.OAuthTenantJITProvisioning != restricted || tenant == "" {
		return false
	}
	allowed, _ := org.AllowedOAuthTenants[p.slug].([]any)
	return slices.ContainsFunc(allowed, func(a any) bool { s, _ := a.(string); return s == tenant })
}

// oauthAllowed reports whether org lets its members sign in with provider p.
func oauthAllowed(org *organization, p oauthProvider) bool {
	return org.AuthMethods != restricted || slices.Contains(org.AllowedAuthMethods, p.slug+"_oauth")
}

// linkOAuth records the identity of t as m's registration (once per subject) and keeps the
// provider's tokens as m's grant, replacing an earlier grant of the same identity. It returns
// the registration's ID. Caller holds e.mu.
func (e *Emulator) linkOAuth(m *member, t *oauthToken, values obj, now time.Time) string {
	var regID string
	for _, r := range m.OAuthRegistrations {
		if reg, ok := r.(obj); ok && reg["provider_type"] == t.provider.name && reg["provider_subject"] == t.subject {
			regID, _ = reg["member_oauth_registration_id"].(string)
		}
	}
	if regID == "" {
		regID = "member-oauth-registration-test-" + newUUID()
		m.OAuthRegistrations = append(m.OAuthRegistrations, obj{
			"provider_type": t.provider.name, "provider_subject": t.subject, "member_oauth_registration_id": regID,
			"profile_picture_url": "https://example.com/" + t.provider.slug + "/" + t.subject + ".png", "locale": "en",
		})
		m.UpdatedAt = rfc3339(now)
	}
	g := &oauthGrant{
		provider: t.provider, subject: t.subject, tenant: t.tenant, scopes: t.scopes, expiresAt: now.Add(oauthAccessTokenTTL),
	}
	g.accessToken, _ = values["access_token"].(string)
	g.refreshToken, _ = values["refresh_token"].(string)
	g.idToken, _ = values["id_token"].(string)
	if t.provider.slug == "slack" {
		g.botToken = "bot-access-token-test-" + randToken(32)
	}
	st := e.oauthState()
	grants := slices.DeleteFunc(st.grants[m.MemberID], func(o *oauthGrant) bool {
		return o.provider.slug == g.provider.slug && o.subject == g.subject
	})
	st.grants[m.MemberID] = append(grants, g)
	return regID
}

// oauthLoginMember finds or JIT-provisions the member a login token signs in. Caller holds e.mu.
func (e *Emulator) oauthLoginMember(org *organization, t *oauthToken, now time.Time) (*member, *apiError) {
	if m, _ := e.oauthMember(org.OrganizationID, t.provider, t.subject); m != nil {
		return m, nil
	}
	if m := e.st.memberByEmail(org.OrganizationID, t.email); m != nil {
		return m, nil
	}
	if !jitEligible(org, t.email) && !tenantEligible(org, t.provider, t.tenant) {
		return nil, newErr(http.StatusForbidden, errJITNotAllowed,
			"The organization has no member with this OAuth identity or email address, and allows no JIT provisioning for it.")
	}
	return e.createMember(org, memberInput{EmailAddress: t.email, Name: t.fullName}, statusActive, now)
}

// POST /v1/b2b/oauth/authenticate.
func (e *Emulator) b2bOAuthAuthenticate(rq *request) (any, error) {
	var in struct {
		OAuthToken       string `json:"oauth_token"`
		PKCECodeVerifier string `json:"pkce_code_verifier"`
		Locale           string `json:"locale"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.OAuthToken == "" {
		return nil, badRequest("oauth_token is required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	t, aerr := e.redeemableOAuthToken(in.OAuthToken, "pkce_code_verifier", in.PKCECodeVerifier, oauthKindB2BLogin, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	org := e.st.orgs[t.b2b.orgID]
	if org == nil {
		return nil, orgNotFound()
	}
	if !oauthAllowed(org, t.provider) {
		return nil, newErr(http.StatusForbidden, errAuthMethodNotAllowed, "The organization does not allow %s_oauth.", t.provider.slug)
	}
	m, aerr := e.oauthLoginMember(org, t, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	values, err := e.oauthProviderValues(t, rq.now)
	if err != nil {
		return nil, err
	}
	regID := e.linkOAuth(m, t, values, rq.now)
	f := t.factor(regID, m.emailID, rq.now)
	res, err := e.completeAuth(rq, org, m, f, in.sessionArgs)
	if err != nil {
		return nil, err
	}
	t.used = true // kept until it expires, so a replay is "already used"
	res["provider_subject"], res["provider_type"], res["provider_values"] = t.subject, t.provider.name, values
	res["reset_sessions"] = false
	return res, nil
}

// POST /v1/b2b/oauth/discovery/authenticate.
func (e *Emulator) b2bOAuthDiscoveryAuthenticate(rq *request) (any, error) {
	var in struct {
		DiscoveryOAuthToken string `json:"discovery_oauth_token"`
		PKCECodeVerifier    string `json:"pkce_code_verifier"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.DiscoveryOAuthToken == "" {
		return nil, badRequest("discovery_oauth_token is required.")
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	t, aerr := e.redeemableOAuthToken(in.DiscoveryOAuthToken, "pkce_code_verifier", in.PKCECodeVerifier, oauthKindB2BDiscovery, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	values, err := e.oauthProviderValues(t, rq.now)
	if err != nil {
		return nil, err
	}
	t.used = true
	var regID string
	for _, id := range e.st.orgOrder {
		if m := e.st.memberByEmail(id, t.email); m != nil {
			regID = e.linkOAuth(m, t, values, rq.now)
		}
	}
	if regID == "" {
		regID = "member-oauth-registration-test-" + newUUID()
	}
	f := t.factor(regID, "", rq.now)
	ist := e.newDiscoveryIST(t.email, f, rq.now)
	return obj{
		"intermediate_session_token": ist.token,
		"email_address":              t.email,
		"discovered_organizations":   e.discoveredOrganizations(t.email, ist.factors),
		"provider_type":              t.provider.name,
		"provider_tenant_id":         t.tenant,
		"provider_tenant_ids":        []string{t.tenant},
		"full_name":                  t.fullName,
	}, nil
}

// GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/{provider}:
// one route per provider, as Stytch's document has them.
func (e *Emulator) b2bOAuthProviderTokens(slug string) handlerFunc {
	p, _ := findB2BOAuthProvider(slug)
	return func(rq *request) (any, error) {
		_, m, aerr := e.memberByPath(rq)
		if aerr != nil {
			return nil, aerr
		}
		var grants []*oauthGrant
		for _, g := range e.oauthState().grants[m.MemberID] {
			if g.provider.slug == p.slug {
				grants = append(grants, g)
			}
		}
		if len(grants) == 0 {
			return nil, newErr(http.StatusNotFound, errOAuthRegistrationNotFound, "The member has no %s OAuth registration.", p.name)
		}
		withRefresh, _ := strconv.ParseBool(rq.r.URL.Query().Get("include_refresh_token"))
		refresh := func(g *oauthGrant) string {
			if withRefresh {
				return g.refreshToken
			}
			return ""
		}
		expiresIn := func(g *oauthGrant) int64 { return max(0, int64(g.expiresAt.Sub(rq.now)/time.Second)) }
		res := obj{"provider_type": p.name}
		switch p.slug {
		case "google", "microsoft":
			g := grants[len(grants)-1] // the latest identity
			res["provider_subject"], res["id_token"], res["scopes"] = g.subject, g.idToken, g.scopes
			res["access_token"], res["access_token_expires_in"], res["refresh_token"] = g.accessToken, expiresIn(g), refresh(g)
			return res, nil
		}
		regs := make([]obj, 0, len(grants))
		for _, g := range grants {
			r := obj{"provider_subject": g.subject, "access_token": g.accessToken, "scopes": g.scopes}
			switch p.slug {
			case "github":
				r["provider_tenant_ids"] = []string{g.tenant}
			case "slack":
				r["provider_tenant_id"], r["bot_access_token"], r["bot_scopes"] = g.tenant, g.botToken, []string{"commands", "chat:write"}
			case "hubspot":
				r["provider_tenant_id"], r["access_token_expires_in"], r["refresh_token"] = g.tenant, expiresIn(g), refresh(g)
			}
			regs = append(regs, r)
		}
		res["registrations"] = regs
		return res, nil
	}
}

// b2bOAuthRoutes are the B2B OAuth routes.
func (e *Emulator) b2bOAuthRoutes() []route {
	rts := []route{
		{B2BOAuthStartTemplate, authNone, e.b2bOAuthStart(false)},
		{B2BOAuthDiscoveryStartTemplate, authNone, e.b2bOAuthStart(true)},
		{"POST /v1/b2b/oauth/authenticate", authRequired, e.b2bOAuthAuthenticate},
		{"POST /v1/b2b/oauth/discovery/authenticate", authRequired, e.b2bOAuthDiscoveryAuthenticate},
	}
	for _, slug := range b2bOAuthProviderSlugs {
		rts = append(rts, route{
			"GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/" + slug, authRequired, e.b2bOAuthProviderTokens(slug),
		})
	}
	return rts
}
