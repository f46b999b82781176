package stytchemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Connected Apps: Stytch as an OAuth 2.0 / OIDC identity provider for the
// project's members. Clients are project-level (/v1/connected_apps/clients);
// a member's consent (POST /v1/b2b/idp/oauth/authorize) yields a single-use
// authorization code the client redeems at the token endpoint
// (POST /v1/public/{project_id}/oauth2/token, connected_apps_token.go) for an
// access token signed with the project's keys, a refresh token with
// offline_access and an ID token with openid. The organization reads list the
// grants; revoke drops a member's grant and its refresh tokens.

const (
	caFirstParty       = "first_party"
	caFirstPartyPublic = "first_party_public"
	caThirdParty       = "third_party"
	caThirdPartyPublic = "third_party_public"

	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeEmail         = "email"
	scopeOfflineAccess = "offline_access"
	scopeFullAccess    = "full_access"

	// defaultAccessTokenMins is Stytch's default access-token expiry of a Connected App.
	defaultAccessTokenMins = 60
	// authCodeLifetime is how long an authorization code can be redeemed.
	authCodeLifetime = 5 * time.Minute
	// accessTokenExchangeMaxAge is the oldest access token sessions/exchange_access_token takes.
	accessTokenExchangeMaxAge = 5 * time.Minute

	errConnectedAppNotFound  = "connected_app_not_found"
	errInvalidRedirectURI    = "invalid_redirect_uri"
	errInvalidScope          = "invalid_scope"
	errPKCERequired          = "pkce_required"
	errConnectedAppForbidden = "connected_app_not_allowed_for_organization"
)

// scopeDescriptions are the scopes the emulator grants, with the text of the consent screen.
var scopeDescriptions = map[string]string{
	scopeOpenID:        "Verify your identity.",
	scopeProfile:       "View your name and profile.",
	scopeEmail:         "View your email address.",
	scopeOfflineAccess: "Stay signed in to the application.",
	scopeFullAccess:    "Act on your behalf with full access to your account.",
}

type connectedApp struct {
	clientID, name, description, status, clientType string
	fullAccessAllowed                               bool
	redirectURLs, postLogoutRedirectURLs            []string
	expiryMinutes                                   int
	templateContent, customAudience, logoURL        string
	bypassConsentOfflineAccess                      bool
	secretHash, nextSecretHash                      []byte // SHA-256 of the secrets: shown once, stored hashed
	secretLastFour, nextSecretLastFour              string
}

func (c *connectedApp) public() bool { return strings.HasSuffix(c.clientType, "_public") }

func (c *connectedApp) firstParty() bool { return strings.HasPrefix(c.clientType, "first_party") }

// grant is a member's consent to an app: the scopes granted, in one organization.
type grant struct {
	memberID, orgID, clientID string
	scopes                    []string
}

type authCode struct {
	clientID, redirectURI, challenge, memberID, orgID, nonce string
	scopes                                                   []string
	expiresAt                                                time.Time
}

type refreshToken struct {
	clientID, memberID, orgID string
	scopes                    []string
}

// caStore is the Connected Apps state; caller holds e.mu.
type caStore struct {
	apps    map[string]*connectedApp
	order   []string
	grants  map[[2]string]*grant // by member ID, client ID
	codes   map[string]*authCode
	refresh map[string]*refreshToken
}

func (e *Emulator) capps() *caStore {
	if e.ca == nil {
		e.ca = &caStore{
			apps: map[string]*connectedApp{}, grants: map[[2]string]*grant{},
			codes: map[string]*authCode{}, refresh: map[string]*refreshToken{},
		}
	}
	return e.ca
}

func hashSecret(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// checkSecret reports whether s is the client's current or pending secret.
func (c *connectedApp) checkSecret(s string) bool {
	h := hashSecret(s)
	cur := subtle.ConstantTimeCompare(h, c.secretHash) == 1
	next := c.nextSecretHash != nil && subtle.ConstantTimeCompare(h, c.nextSecretHash) == 1
	return cur || next
}

// summary is how Stytch lists an app beside others (an organization's or a member's apps, the
// app's active members): its ID, name, description, type and logo.
func (c *connectedApp) summary() obj {
	return obj{
		"connected_app_id": c.clientID, "name": c.name, "description": c.description,
		"client_type": c.clientType, "logo_url": c.logoURL,
	}
}

// grantSummary is summary with the scopes grant g holds, as a member's or user's apps are listed.
func (c *connectedApp) grantSummary(g *grant) obj {
	out := c.summary()
	out["scopes_granted"] = strings.Join(g.scopes, " ")
	return out
}

func (c *connectedApp) wire() obj {
	return obj{
		"client_id":                         c.clientID,
		"client_name":                       c.name,
		"client_description":                c.description,
		"status":                            c.status,
		"full_access_allowed":               c.fullAccessAllowed,
		"client_type":                       c.clientType,
		"redirect_urls":                     nonNil(c.redirectURLs),
		"access_token_expiry_minutes":       c.expiryMinutes,
		"access_token_template_content":     c.templateContent,
		"post_logout_redirect_urls":         nonNil(c.postLogoutRedirectURLs),
		"bypass_consent_for_offline_access": c.bypassConsentOfflineAccess,
		"creation_method":                   "api",
		"client_secret_last_four":           c.secretLastFour,
		"next_client_secret_last_four":      c.nextSecretLastFour,
		"access_token_custom_audience":      c.customAudience,
		"logo_url":                          c.logoURL,
		"client_id_metadata_url":            "",
	}
}

func connectedAppNotFound() *apiError {
	return newErr(http.StatusNotFound, errConnectedAppNotFound, "Connected App could not be found.")
}

type caSettings struct {
	ClientName                    *string  `json:"client_name"`
	ClientDescription             *string  `json:"client_description"`
	RedirectURLs                  []string `json:"redirect_urls"`
	FullAccessAllowed             *bool    `json:"full_access_allowed"`
	AccessTokenExpiryMinutes      *int     `json:"access_token_expiry_minutes"`
	AccessTokenCustomAudience     *string  `json:"access_token_custom_audience"`
	AccessTokenTemplateContent    *string  `json:"access_token_template_content"`
	PostLogoutRedirectURLs        []string `json:"post_logout_redirect_urls"`
	LogoURL                       *string  `json:"logo_url"`
	BypassConsentForOfflineAccess *bool    `json:"bypass_consent_for_offline_access"`
}

func validURLs(urls []string) *apiError {
	for _, u := range urls {
		if !strings.Contains(u, "://") || strings.ContainsAny(u, " \t\n#") {
			return badRequest("Redirect URLs must be absolute URLs without a fragment.").withType(errInvalidRedirectURI)
		}
	}
	return nil
}

// apply validates and applies settings to c.
func (s *caSettings) apply(c *connectedApp) *apiError {
	if s.AccessTokenExpiryMinutes != nil && (*s.AccessTokenExpiryMinutes < 5 || *s.AccessTokenExpiryMinutes > 1440) {
		return badRequest("access_token_expiry_minutes must be between 5 and 1440.")
	}
	if err := validURLs(s.RedirectURLs); err != nil {
		return err
	}
	if err := validURLs(s.PostLogoutRedirectURLs); err != nil {
		return err
	}
	if s.FullAccessAllowed != nil && *s.FullAccessAllowed && !c.firstParty() {
		return badRequest("full_access_allowed is only available to first-party Connected Apps.")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.name, s.ClientName)
	set(&c.description, s.ClientDescription)
	set(&c.customAudience, s.AccessTokenCustomAudience)
	set(&c.templateContent, s.AccessTokenTemplateContent)
	set(&c.logoURL, s.LogoURL)
	if s.RedirectURLs != nil {
		c.redirectURLs = slices.Clone(s.RedirectURLs)
	}
	if s.PostLogoutRedirectURLs != nil {
		c.postLogoutRedirectURLs = slices.Clone(s.PostLogoutRedirectURLs)
	}
	if s.FullAccessAllowed != nil {
		c.fullAccessAllowed = *s.FullAccessAllowed
	}
	if s.AccessTokenExpiryMinutes != nil {
		c.expiryMinutes = *s.AccessTokenExpiryMinutes
	}
	if s.BypassConsentForOfflineAccess != nil {
		c.bypassConsentOfflineAccess = *s.BypassConsentForOfflineAccess
	}
	return nil
}

func (e *Emulator) caCreate(rq *request) (any, error) {
	var in struct {
		ClientType string `json:"client_type"`
		caSettings
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	switch in.ClientType {
	case caFirstParty, caFirstPartyPublic, caThirdParty, caThirdPartyPublic:
	default:
		return nil, badRequest("client_type must be first_party, first_party_public, third_party or third_party_public.")
	}
	c := &connectedApp{
		clientID: "connected-app-test-" + newUUID(), status: statusActive,
		clientType: in.ClientType, expiryMinutes: defaultAccessTokenMins,
	}
	if err := in.apply(c); err != nil {
		return nil, err
	}
	secret := ""
	if !c.public() {
		secret = "secret-test-" + randToken(33)
		c.secretHash, c.secretLastFour = hashSecret(secret), lastFour(secret)
	}
	ca := e.capps()
	ca.apps[c.clientID] = c
	ca.order = append(ca.order, c.clientID)
	w := c.wire()
	delete(w, "creation_method")
	w["client_secret"] = secret
	return obj{"connected_app": w}, nil
}

func (e *Emulator) caByPath(rq *request) (*connectedApp, *apiError) {
	c, ok := byID(e.capps().apps, rq.r.PathValue("client_id"))
	if !ok {
		return nil, connectedAppNotFound()
	}
	return c, nil
}

func (e *Emulator) caGet(rq *request) (any, error) {
	c, err := e.caByPath(rq)
	if err != nil {
		return nil, err
	}
	return obj{"connected_app": c.wire()}, nil
}

func (e *Emulator) caUpdate(rq *request) (any, error) {
	c, aerr := e.caByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in caSettings
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := in.apply(c); err != nil {
		return nil, err
	}
	return obj{"connected_app": c.wire()}, nil
}

// caDelete deletes the client with its grants, codes and refresh tokens.
func (e *Emulator) caDelete(rq *request) (any, error) {
	c, err := e.caByPath(rq)
	if err != nil {
		return nil, err
	}
	ca := e.capps()
	delete(ca.apps, c.clientID)
	ca.order = slices.DeleteFunc(ca.order, func(id string) bool { return id == c.clientID })
	for k, g := range ca.grants {
		if g.clientID == c.clientID {
			delete(ca.grants, k)
		}
	}
	e.dropTokens(func(clientID, _ string) bool { return clientID == c.clientID })
	return obj{"client_id": c.clientID}, nil
}

// dropTokens deletes the codes and refresh tokens whose client and member match.
func (e *Emulator) dropTokens(match func(clientID, memberID string) bool) {
	ca := e.capps()
	for k, ac := range ca.codes {
		if match(ac.clientID, ac.memberID) {
			delete(ca.codes, k)
		}
	}
	for k, rt := range ca.refresh {
		if match(rt.clientID, rt.memberID) {
			delete(ca.refresh, k)
		}
	}
}

func (e *Emulator) caSearch(rq *request) (any, error) {
	var in struct {
		Cursor string `json:"cursor"`
		Limit  *int   `json:"limit"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	ca := e.capps()
	hits := make([]*connectedApp, 0, len(ca.order))
	for _, id := range ca.order {
		hits = append(hits, ca.apps[id])
	}
	page, meta, aerr := paginate(hits, in.Cursor, in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]obj, 0, len(page))
	for _, c := range page {
		out = append(out, c.wire())
	}
	return obj{"connected_apps": out, "results_metadata": meta}, nil
}

func (e *Emulator) caRotateStart(rq *request) (any, error) {
	c, err := e.caByPath(rq)
	if err != nil {
		return nil, err
	}
	if c.public() {
		return nil, badRequest("Public Connected Apps have no client secret.")
	}
	next := "secret-test-" + randToken(33)
	c.nextSecretHash, c.nextSecretLastFour = hashSecret(next), lastFour(next)
	w := c.wire()
	delete(w, "creation_method")
	w["next_client_secret"] = next
	return obj{"connected_app": w}, nil
}

func noRotation() *apiError {
	return badRequest("No secret rotation is in progress for this Connected App.").withType("connected_app_secret_rotation_not_started")
}

func (e *Emulator) caRotate(rq *request) (any, error) {
	c, err := e.caByPath(rq)
	if err != nil {
		return nil, err
	}
	if c.nextSecretHash == nil {
		return nil, noRotation()
	}
	c.secretHash, c.secretLastFour = c.nextSecretHash, c.nextSecretLastFour
	c.nextSecretHash, c.nextSecretLastFour = nil, ""
	return obj{"connected_app": c.wire()}, nil
}

func (e *Emulator) caRotateCancel(rq *request) (any, error) {
	c, err := e.caByPath(rq)
	if err != nil {
		return nil, err
	}
	if c.nextSecretHash == nil {
		return nil, noRotation()
	}
	c.nextSecretHash, c.nextSecretLastFour = nil, ""
	return obj{"connected_app": c.wire()}, nil
}

// --- organization and member reads, revoke ---

func (e *Emulator) orgConnectedApps(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.actorMay(rq, org.OrganizationID, "", "stytch.organization", "get_connected_apps"); err != nil {
		return nil, err
	}
	ca := e.capps()
	out := []obj{}
	for _, id := range ca.order {
		if len(e.grantsOf(org.OrganizationID, id, "")) > 0 {
			c := ca.apps[id]
			out = append(out, c.summary())
		}
	}
	return obj{"connected_apps": out}, nil
}

// grantsOf lists the grants of an organization, optionally for one app and one member, by member order.
func (e *Emulator) grantsOf(orgID, clientID, memberID string) []*grant {
	var out []*grant
	for _, mid := range e.st.memberOrder {
		if memberID != "" && mid != memberID {
			continue
		}
		for _, cid := range e.capps().order {
			g := e.capps().grants[[2]string{mid, cid}]
			if g != nil && g.orgID == orgID && (clientID == "" || cid == clientID) {
				out = append(out, g)
			}
		}
	}
	return out
}

func (e *Emulator) actorMay(rq *request, orgID, memberID, resource, action string) *apiError {
	act, aerr := e.actor(rq)
	if aerr != nil {
		return aerr
	}
	return e.authorize(act, orgID, memberID, resource, action)
}

func (e *Emulator) orgConnectedApp(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.actorMay(rq, org.OrganizationID, "", "stytch.organization", "get_connected_apps"); err != nil {
		return nil, err
	}
	c, ok := byID(e.capps().apps, rq.r.PathValue("connected_app_id"))
	if !ok {
		return nil, connectedAppNotFound()
	}
	active := []obj{}
	for _, g := range e.grantsOf(org.OrganizationID, c.clientID, "") {
		active = append(active, obj{"member_id": g.memberID, "granted_scopes": slices.Clone(g.scopes)})
	}
	out := c.summary()
	out["active_members"] = active
	return out, nil
}

func (e *Emulator) memberByPaths(rq *request) (*member, *apiError) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.findMember(org.OrganizationID, rq.r.PathValue("member_id"), false)
	if m == nil {
		return nil, memberNotFound()
	}
	return m, nil
}

func (e *Emulator) memberConnectedApps(rq *request) (any, error) {
	m, aerr := e.memberByPaths(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.actorMay(rq, m.OrganizationID, m.MemberID, "stytch.member", "get_connected_apps"); err != nil {
		return nil, err
	}
	out := []obj{}
	for _, g := range e.grantsOf(m.OrganizationID, "", m.MemberID) {
		c := e.capps().apps[g.clientID]
		out = append(out, c.grantSummary(g))
	}
	return obj{"connected_apps": out}, nil
}

// memberRevokeConnectedApp drops the member's grant to the app with its codes and
// refresh tokens; access tokens already issued live until they expire, as at Stytch.
func (e *Emulator) memberRevokeConnectedApp(rq *request) (any, error) {
	m, aerr := e.memberByPaths(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.actorMay(rq, m.OrganizationID, m.MemberID, "stytch.member", "revoke_connected_app"); err != nil {
		return nil, err
	}
	c, ok := byID(e.capps().apps, rq.r.PathValue("connected_app_id"))
	if !ok {
		return nil, connectedAppNotFound()
	}
	delete(e.capps().grants, [2]string{m.MemberID, c.clientID})
	e.dropTokens(func(clientID, memberID string) bool { return clientID == c.clientID && memberID == m.MemberID })
	return obj{}, nil
}
