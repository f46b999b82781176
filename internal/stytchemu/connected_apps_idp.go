package stytchemu

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Stytch as an OAuth IdP for B2B members: authorize start / authorize (the
// consent step), the authorization_code and refresh_token grants of the
// token endpoint, and sessions/exchange_access_token.

type authorizeParams struct {
	ClientID       string   `json:"client_id"`
	RedirectURI    string   `json:"redirect_uri"`
	ResponseType   string   `json:"response_type"`
	Scopes         []string `json:"scopes"`
	OrganizationID string   `json:"organization_id"`
	MemberID       string   `json:"member_id"`
	UserID         string   `json:"user_id"` // consumer projects (/v1/idp/oauth/...)
	SessionToken   string   `json:"session_token"`
	SessionJWT     string   `json:"session_jwt"`
	Prompt         string   `json:"prompt"`
}

// authorizeCheck is a validated authorization request: the app, the member
// it acts for, and each requested scope with whether it can be granted.
type authorizeCheck struct {
	app    *connectedApp
	member *member       // B2B
	org    *organization // B2B
	user   *user         // consumer
	// subject is the member or user ID the grant is for; orgID is "" for a user.
	subject, orgID  string
	grantable       map[string]bool
	consentRequired bool
}

func scopeGrantable(c *connectedApp, s string) bool {
	if s == scopeFullAccess {
		return c.firstParty() && c.fullAccessAllowed
	}
	_, ok := scopeDescriptions[s]
	return ok
}

// checkAuthorize validates the request as Stytch does: a known active client,
// the redirect URI registered exactly, response_type code, a member known by
// session (or by organization and member ID), the organization's Connected
// Apps policy, the prompt.
func (e *Emulator) checkAuthorize(rq *request, in *authorizeParams) (*authorizeCheck, *apiError) {
	switch {
	case in.ClientID == "":
		return nil, badRequest("client_id is required.")
	case in.RedirectURI == "":
		return nil, badRequest("redirect_uri is required.")
	case in.Scopes == nil:
		return nil, badRequest("scopes is required.")
	}
	c, ok := e.capps().apps[in.ClientID]
	if !ok || c.status != statusActive {
		return nil, connectedAppNotFound()
	}
	if !slices.Contains(c.redirectURLs, in.RedirectURI) {
		return nil, badRequest("redirect_uri is not registered for this Connected App.").withType(errInvalidRedirectURI)
	}
	if in.ResponseType != "code" {
		return nil, badRequest("response_type must be code.")
	}
	switch in.Prompt {
	case "", "none", "consent", "login":
	default:
		return nil, badRequest("prompt must be none, login or consent.")
	}
	ck := &authorizeCheck{app: c, grantable: map[string]bool{}}
	if aerr := e.authorizeSubject(rq, in, ck); aerr != nil {
		return nil, aerr
	}
	g := e.capps().grants[[2]string{ck.subject, c.clientID}]
	for _, s := range in.Scopes {
		ck.grantable[s] = scopeGrantable(c, s)
		already := g != nil && slices.Contains(g.scopes, s)
		switch {
		case already:
		case !c.firstParty():
			ck.consentRequired = true
		case s == scopeOfflineAccess && !c.bypassConsentOfflineAccess:
			ck.consentRequired = true
		}
	}
	if in.Prompt == "consent" {
		ck.consentRequired = true
	}
	return ck, nil
}

// authorizeSubject finds the member (B2B) or user (consumer) the request acts
// for, by session or by ID, and for a member checks the organization's
// Connected Apps policy.
func (e *Emulator) authorizeSubject(rq *request, in *authorizeParams, ck *authorizeCheck) *apiError {
	if e.projectType == ProjectConsumer {
		var u *user
		if in.SessionToken != "" || in.SessionJWT != "" {
			ss, aerr := e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now)
			if aerr != nil {
				return aerr
			}
			if in.UserID != "" && in.UserID != ss.userID {
				return badRequest("The session belongs to a different user.")
			}
			u = e.cs.users[ss.userID]
		} else {
			if in.UserID == "" {
				return badRequest("A session_token or session_jwt, or user_id, is required.")
			}
			u = e.cs.users[in.UserID]
		}
		if u == nil || u.status != statusActive {
			return userNotFound()
		}
		ck.user, ck.subject = u, u.id
		return nil
	}
	c := ck.app
	var m *member
	if in.SessionToken != "" || in.SessionJWT != "" {
		ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
		if aerr != nil {
			return aerr
		}
		if (in.OrganizationID != "" && in.OrganizationID != ss.orgID) || (in.MemberID != "" && in.MemberID != ss.memberID) {
			return newErr(http.StatusForbidden, errSessionAuthzTenancy, "The session does not belong to the named organization and member.")
		}
		m = e.st.findMember(ss.orgID, ss.memberID, false)
	} else {
		if in.OrganizationID == "" || in.MemberID == "" {
			return badRequest("A session_token or session_jwt, or organization_id and member_id, is required.")
		}
		m = e.st.findMember(in.OrganizationID, in.MemberID, false)
	}
	if m == nil || m.Status != statusActive {
		return memberNotFound()
	}
	org := e.st.orgs[m.OrganizationID]
	policy, allowed := org.ThirdPartyConnectedAppsAllowedType, org.AllowedThirdPartyConnectedApps
	if c.firstParty() {
		policy, allowed = org.FirstPartyConnectedAppsAllowedType, org.AllowedFirstPartyConnectedApps
	}
	if policy == notAllowed || (policy == restricted && !slices.Contains(allowed, c.clientID)) {
		return newErr(http.StatusForbidden, errConnectedAppForbidden, "The organization does not allow this Connected App.")
	}
	ck.member, ck.org, ck.subject, ck.orgID = m, org, m.MemberID, m.OrganizationID
	return nil
}

func (e *Emulator) idpAuthorizeStart(rq *request) (any, error) {
	var in authorizeParams
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	ck, aerr := e.checkAuthorize(rq, &in)
	if aerr != nil {
		return nil, aerr
	}
	results := make([]obj, 0, len(in.Scopes))
	for _, s := range in.Scopes {
		d := scopeDescriptions[s]
		if d == "" {
			d = "Unknown scope " + s + "."
		}
		results = append(results, obj{"scope": s, "description": d, "is_grantable": ck.grantable[s]})
	}
	c := ck.app
	res := obj{
		"client":           obj{"client_id": c.clientID, "client_name": c.name, "client_description": c.description, "client_type": c.clientType, "logo_url": c.logoURL},
		"consent_required": ck.consentRequired,
		"scope_results":    results,
	}
	if ck.user != nil {
		res["user_id"], res["user"] = ck.user.id, ck.user.wire()
		return res, nil
	}
	res["member_id"], res["member"], res["organization"] = ck.member.MemberID, e.st.render(ck.member), ck.org
	return res, nil
}

// idpAuthorize records the member's decision. Granted: the grant is stored
// and a single-use code (bound to client, redirect URI and PKCE challenge)
// comes back in the redirect URI. Denied: the redirect carries
// error=access_denied. A refused request (bad client, redirect URI, scope,
// missing PKCE for a public client) is an API error, never a redirect.
func (e *Emulator) idpAuthorize(rq *request) (any, error) {
	var in struct {
		authorizeParams
		ConsentGranted *bool    `json:"consent_granted"`
		State          string   `json:"state"`
		Nonce          string   `json:"nonce"`
		CodeChallenge  string   `json:"code_challenge"`
		Resources      []string `json:"resources"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.ConsentGranted == nil {
		return nil, badRequest("consent_granted is required.")
	}
	ck, aerr := e.checkAuthorize(rq, &in.authorizeParams)
	if aerr != nil {
		return nil, aerr
	}
	for _, s := range in.Scopes {
		if !ck.grantable[s] {
			return nil, badRequest("The scope %q cannot be granted to this Connected App.", s).withType(errInvalidScope)
		}
	}
	if ck.app.public() && in.CodeChallenge == "" {
		return nil, badRequest("Public Connected Apps must use PKCE: code_challenge is required.").withType(errPKCERequired)
	}
	u, err := url.Parse(in.RedirectURI)
	if err != nil {
		return nil, badRequest("redirect_uri is not a valid URL.").withType(errInvalidRedirectURI)
	}
	q := u.Query()
	if in.State != "" {
		q.Set("state", in.State)
	}
	res := obj{"authorization_code": ""}
	switch {
	case !*in.ConsentGranted:
		q.Set("error", "access_denied")
		q.Set("error_description", "The member denied consent.")
	case in.Prompt == "none" && ck.consentRequired:
		q.Set("error", "consent_required")
		q.Set("error_description", "The member has not consented to these scopes.")
	default:
		key := [2]string{ck.subject, ck.app.clientID}
		ca := e.capps()
		g := ca.grants[key]
		if g == nil {
			g = &grant{memberID: ck.subject, orgID: ck.orgID, clientID: ck.app.clientID}
			ca.grants[key] = g
		}
		for _, s := range in.Scopes {
			if !slices.Contains(g.scopes, s) {
				g.scopes = append(g.scopes, s)
			}
		}
		code := randToken(33)
		ca.codes[code] = &authCode{
			clientID: ck.app.clientID, redirectURI: in.RedirectURI, challenge: in.CodeChallenge,
			memberID: ck.subject, orgID: ck.orgID, nonce: in.Nonce,
			scopes: slices.Clone(in.Scopes), expiresAt: rq.now.Add(authCodeLifetime),
		}
		q.Set("code", code)
		res["authorization_code"] = code
	}
	u.RawQuery = q.Encode()
	res["redirect_uri"] = u.String()
	return res, nil
}

// --- token endpoint grants ---

func invalidGrant(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: desc}
}

// caClient authenticates a Connected App at the token endpoint: a confidential
// client by its secret, a public one by client_id alone (PKCE proves it).
func (e *Emulator) caClient(in tokenRequest) (*connectedApp, *oauthError) {
	badClient := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed."}
	c, ok := e.capps().apps[in.ClientID]
	if !ok || c.status != statusActive {
		return nil, badClient
	}
	if !c.public() && (in.ClientSecret == "" || !c.checkSecret(in.ClientSecret)) {
		return nil, badClient
	}
	return c, nil
}

func (e *Emulator) authorizationCodeGrant(rq *request, in tokenRequest) (any, error) {
	c, oerr := e.caClient(in)
	if oerr != nil {
		return nil, oerr
	}
	ca := e.capps()
	ac, ok := ca.codes[in.Code]
	delete(ca.codes, in.Code) // single use, whatever the outcome
	switch {
	case in.Code == "" || !ok || !rq.now.Before(ac.expiresAt):
		return nil, invalidGrant("The authorization code is invalid, expired or already used.")
	case ac.clientID != c.clientID:
		return nil, invalidGrant("The authorization code was issued to another client.")
	case in.RedirectURI != ac.redirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request.")
	case ac.challenge != "" && in.CodeVerifier == "":
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "code_verifier is required."}
	case ac.challenge != "" && subtle.ConstantTimeCompare([]byte(pkceS256(in.CodeVerifier)), []byte(ac.challenge)) != 1:
		return nil, invalidGrant("code_verifier does not match the code_challenge.")
	case ac.challenge == "" && in.CodeVerifier != "":
		return nil, invalidGrant("code_verifier was sent but the authorization request had no code_challenge.")
	}
	return e.issueTokens(rq, c, ac.memberID, ac.orgID, ac.scopes, ac.nonce)
}

func (e *Emulator) refreshTokenGrant(rq *request, in tokenRequest) (any, error) {
	c, oerr := e.caClient(in)
	if oerr != nil {
		return nil, oerr
	}
	ca := e.capps()
	rt, ok := ca.refresh[in.RefreshToken]
	if in.RefreshToken == "" || !ok || rt.clientID != c.clientID {
		return nil, invalidGrant("The refresh token is invalid or revoked.")
	}
	g := ca.grants[[2]string{rt.memberID, rt.clientID}]
	if g == nil {
		delete(ca.refresh, in.RefreshToken)
		return nil, invalidGrant("The member revoked this Connected App.")
	}
	scopes := rt.scopes
	if in.Scope != "" {
		scopes = strings.Fields(in.Scope)
		for _, s := range scopes {
			if !slices.Contains(rt.scopes, s) {
				return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "A requested scope was not granted."}
			}
		}
		if !slices.Contains(scopes, scopeOfflineAccess) {
			scopes = append(scopes, scopeOfflineAccess) // the new refresh token keeps the grant's reach
		}
	}
	delete(ca.refresh, in.RefreshToken) // rotation: each refresh token is used once
	return e.issueTokens(rq, c, rt.memberID, rt.orgID, scopes, "")
}

// issueTokens mints the access token (a JWT signed with the project's keys:
// sub = member, scope, client_id, the organization claim), a refresh token
// with offline_access and an ID token with openid.
func (e *Emulator) issueTokens(rq *request, c *connectedApp, subject, orgID string, scopes []string, nonce string) (any, error) {
	var email, name string
	var emailVerified bool
	var orgClaim map[string]any
	if orgID == "" {
		u := e.cs.users[subject]
		if u == nil || u.status != statusActive {
			return nil, invalidGrant("The user no longer exists.")
		}
		if len(u.emails) > 0 {
			email, emailVerified = u.emails[0].Email, u.emails[0].Verified
		}
		name = strings.TrimSpace(strings.Join([]string{u.name.FirstName, u.name.MiddleName, u.name.LastName}, " "))
	} else {
		m := e.st.findMember(orgID, subject, false)
		org := e.st.orgs[orgID]
		if m == nil || org == nil || m.Status != statusActive {
			return nil, invalidGrant("The member no longer exists.")
		}
		email, emailVerified, name = m.EmailAddress, m.EmailAddressVerified, m.Name
		orgClaim = map[string]any{"organization_id": orgID, "slug": org.OrganizationSlug}
	}
	life := time.Duration(c.expiryMinutes) * time.Minute
	aud := []string{e.projectID}
	if c.customAudience != "" {
		aud = append(aud, c.customAudience)
	}
	claims := jwt.MapClaims{
		"iss": "stytch.com/" + e.projectID, "aud": aud, "sub": subject,
		"iat": rq.now.Unix(), "nbf": rq.now.Unix(), "exp": rq.now.Add(life).Unix(),
		"scope": strings.Join(scopes, " "), "client_id": c.clientID,
	}
	if orgClaim != nil {
		claims["https://stytch.com/organization"] = orgClaim
	}
	at, err := e.keys.sign(claims)
	if err != nil {
		return nil, err
	}
	res := rawResponse{
		"access_token": at, "token_type": "bearer", "expires_in": int(life.Seconds()),
		"scope": strings.Join(scopes, " "),
	}
	if slices.Contains(scopes, scopeOfflineAccess) {
		rt := randToken(33)
		e.capps().refresh[rt] = &refreshToken{clientID: c.clientID, memberID: subject, orgID: orgID, scopes: slices.Clone(scopes)}
		res["refresh_token"] = rt
	}
	if slices.Contains(scopes, scopeOpenID) {
		idc := jwt.MapClaims{
			"iss": "stytch.com/" + e.projectID, "aud": []string{c.clientID}, "sub": subject,
			"iat": rq.now.Unix(), "nbf": rq.now.Unix(), "exp": rq.now.Add(life).Unix(),
		}
		if orgClaim != nil {
			idc["https://stytch.com/organization"] = orgClaim
		}
		if nonce != "" {
			idc["nonce"] = nonce
		}
		if slices.Contains(scopes, scopeEmail) {
			idc["email"], idc["email_verified"] = email, emailVerified
		}
		if slices.Contains(scopes, scopeProfile) {
			idc["name"] = name
		}
		idt, err := e.keys.sign(idc)
		if err != nil {
			return nil, err
		}
		res["id_token"] = idt
	}
	return res, nil
}

// --- sessions/exchange_access_token ---

func accessTokenNotFound() *apiError {
	return newErr(http.StatusNotFound, errAccessTokenNotFound, "The access token could not be found, is expired or cannot be exchanged.")
}

// b2bExchangeAccessToken turns a Connected Apps access token of this project
// holding full_access, at most 5 minutes old, into a member session with the
// oauth / oauth_access_token_exchange factor.
func (e *Emulator) b2bExchangeAccessToken(rq *request) (any, error) {
	var in struct {
		AccessToken string `json:"access_token"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	subject, clientID, aerr := e.exchangeableToken(rq, in.AccessToken)
	if aerr != nil {
		return nil, aerr
	}
	claims, _ := e.keys.parse(in.AccessToken, e.projectID)
	oc, _ := claims["https://stytch.com/organization"].(map[string]any)
	orgID, _ := oc["organization_id"].(string)
	m := e.st.findMember(orgID, subject, false)
	if m == nil || m.Status != statusActive {
		return nil, memberNotFound()
	}
	f := exchangeFactor(clientID, rq.now)
	in.SessionToken, in.SessionJWT = "", ""
	return e.sessionFor(rq, e.st.orgs[m.OrganizationID], m, f, in.sessionArgs)
}

// --- consumer twins: /v1/users/{user_id}/connected_apps, revoke, sessions/exchange_access_token ---

func (e *Emulator) userConnectedApps(rq *request) (any, error) {
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	ca := e.capps()
	out := []obj{}
	for _, id := range ca.order {
		if g := ca.grants[[2]string{u.id, id}]; g != nil {
			c := ca.apps[id]
			out = append(out, c.grantSummary(g))
		}
	}
	return obj{"connected_apps": out}, nil
}

func (e *Emulator) userRevokeConnectedApp(rq *request) (any, error) {
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	c, ok := byID(e.capps().apps, rq.r.PathValue("connected_app_id"))
	if !ok {
		return nil, connectedAppNotFound()
	}
	delete(e.capps().grants, [2]string{u.id, c.clientID})
	e.dropTokens(func(clientID, subject string) bool { return clientID == c.clientID && subject == u.id })
	return obj{}, nil
}

// exchangeableToken checks an access token for sessions/exchange_access_token
// and returns its subject and client.
func (e *Emulator) exchangeableToken(rq *request, token string) (subject, clientID string, aerr *apiError) {
	if token == "" {
		return "", "", badRequest("access_token is required.")
	}
	claims, err := e.keys.parse(token, e.projectID)
	if err != nil {
		return "", "", accessTokenNotFound()
	}
	clientID, _ = claims["client_id"].(string)
	scope, _ := claims["scope"].(string)
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	subject, _ = claims.GetSubject()
	switch {
	case clientID == "" || exp == nil || iat == nil || !rq.now.Before(exp.Time):
		return "", "", accessTokenNotFound()
	case !slices.Contains(strings.Fields(scope), scopeFullAccess):
		return "", "", newErr(http.StatusForbidden, "access_token_missing_full_access_scope", "The access token lacks the full_access scope.")
	case rq.now.Sub(iat.Time) > accessTokenExchangeMaxAge:
		return "", "", newErr(http.StatusUnauthorized, "access_token_too_old", "The access token is older than 5 minutes; only a fresh one can be exchanged.")
	case e.capps().grants[[2]string{subject, clientID}] == nil:
		return "", "", accessTokenNotFound() // revoked
	}
	return subject, clientID, nil
}

func exchangeFactor(clientID string, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "oauth", DeliveryMethod: "oauth_access_token_exchange", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		AccessTokenExchangeFactor: &accessTokenExchangeFactor{ClientID: clientID},
	}
}

// userExchangeAccessToken is the consumer twin of b2bExchangeAccessToken: a
// user session (60 minutes unless session_duration_minutes says otherwise).
func (e *Emulator) userExchangeAccessToken(rq *request) (any, error) {
	var in struct {
		AccessToken string `json:"access_token"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	subject, clientID, aerr := e.exchangeableToken(rq, in.AccessToken)
	if aerr != nil {
		return nil, aerr
	}
	u := e.cs.users[subject]
	if u == nil || u.status != statusActive {
		return nil, userNotFound()
	}
	args := userSessionArgs{SessionDurationMinutes: in.SessionDurationMinutes, SessionCustomClaims: in.SessionCustomClaims}
	if args.SessionDurationMinutes == nil {
		d := defaultSessionMins
		args.SessionDurationMinutes = &d
	}
	return e.finishUserAuth(u, nil, exchangeFactor(clientID, rq.now), args, rq.now)
}
