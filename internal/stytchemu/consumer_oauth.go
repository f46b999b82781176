package stytchemu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Consumer OAuth. The flow, as a browser follows it:
//
//  1. GET /v1/public/oauth/{provider}/start?public_token=... (no Basic auth: the public token
//     names the project) checks the token, the redirect URLs, the PKCE code_challenge and an
//     oauth_attach_token, and redirects to the stand-in provider's consent page;
//  2. GET /emulator/oauth/{provider}/consent?project_id=...&state=... shows a form naming the
//     account to sign in as (email and provider subject) with an Allow button; the same URL with
//     email (and optionally subject) and allow=true, from the form or typed by hand (curl -L),
//     grants it and redirects to the login or sign-up redirect URL with
//     ?stytch_token_type=oauth&token=...;
//  3. POST /v1/oauth/authenticate redeems that token once (PKCE verifier checked, S256), finds or
//     creates the user, records the provider registration in the user's providers, and returns
//     the provider's tokens (a signed id_token for OpenID Connect providers).
//
// POST /v1/oauth/attach returns a single-use token that makes the next flow of a provider land on
// an existing user. The consent page is the emulator's, not Stytch's: real flows show the
// provider's own page.

// OAuth lifetimes in the emulator: a started flow (start to consent), the token on the redirect
// URL, an attach token and the provider's access token.
const (
	oauthFlowTTL        = 10 * time.Minute
	oauthTokenTTL       = 10 * time.Minute
	oauthAttachTTL      = 10 * time.Minute
	oauthAccessTokenTTL = time.Hour
)

// OAuthStartTemplate is the route template of the OAuth start endpoint (not in Stytch's OpenAPI
// document: browsers call it, not backends).
const OAuthStartTemplate = "GET /v1/public/oauth/{provider}/start"

// Error types of the OAuth endpoints (names, not credentials).
//
//nolint:gosec // G101 reads "token" in an error type's name as a credential
const (
	errOAuthTokenNotFound    = "oauth_token_not_found"
	errUnableToAuthOAuth     = "unable_to_auth_oauth_token"
	errOAuthAttachNotFound   = "oauth_attach_token_not_found"
	errInvalidOAuthProvider  = "invalid_oauth_provider"
	errInvalidPublicToken    = "invalid_public_token"
	errInvalidCodeChallenge  = "invalid_code_challenge"
	errInvalidRedirectURL    = "invalid_redirect_url"
	errOAuthUserIDArguments  = "too_many_user_identifiers"
	errOAuthFlowNotFound     = "oauth_flow_not_found"
	errOAuthConsentIncorrect = "oauth_consent_invalid"
)

// oauthProvider is one OAuth identity provider of a consumer project.
type oauthProvider struct {
	slug string // as in the start path and the delivery method ("oauth_" + slug)
	name string // provider_type in the user object
	key  string // the session factor's sub-object
	oidc bool   // OpenID Connect: the provider issues an id_token
}

// oauthProviders are the providers Stytch's consumer session factors name (api_session_v1's
// delivery methods oauth_*), with the factor sub-object Stytch names for each.
var oauthProviders = []oauthProvider{
	{"amazon", "Amazon", "amazon_oauth_factor", false},
	{"apple", "Apple", "apple_oauth_factor", true},
	{"bitbucket", "Bitbucket", "bitbucket_oauth_factor", false},
	{"coinbase", "Coinbase", "coinbase_oauth_factor", false},
	{"discord", "Discord", "discord_oauth_factor", false},
	{"facebook", "Facebook", "facebook_oauth_factor", false},
	{"figma", "Figma", "figma_oauth_factor", false},
	{"github", "GitHub", "github_oauth_factor", false},
	{"gitlab", "GitLab", "git_lab_oauth_factor", true},
	{"google", "Google", "google_oauth_factor", true},
	{"hubspot", "HubSpot", "hubspot_oauth_factor", false},
	{"instagram", "Instagram", "instagram_oauth_factor", false},
	{"linkedin", "LinkedIn", "linked_in_oauth_factor", true},
	{"microsoft", "Microsoft", "microsoft_oauth_factor", true},
	{"salesforce", "Salesforce", "salesforce_oauth_factor", true},
	{"shopify", "Shopify", "shopify_oauth_factor", false},
	{"slack", "Slack", "slack_oauth_factor", true},
	{"snapchat", "Snapchat", "snapchat_oauth_factor", false},
	{"spotify", "Spotify", "spotify_oauth_factor", false},
	{"steam", "Steam", "steam_oauth_factor", false},
	{"tiktok", "TikTok", "tik_tok_oauth_factor", false},
	{"twitch", "Twitch", "twitch_oauth_factor", true},
	{"twitter", "Twitter", "twitter_oauth_factor", false},
	{"yahoo", "Yahoo", "yahoo_oauth_factor", true},
}

// OAuthProviders returns the provider names the start endpoint accepts ("google", "github", ...).
func OAuthProviders() []string {
	out := make([]string, 0, len(oauthProviders))
	for _, p := range oauthProviders {
		out = append(out, p.slug)
	}
	return out
}

func findOAuthProvider(slug string) (oauthProvider, bool) {
	i := slices.IndexFunc(oauthProviders, func(p oauthProvider) bool { return p.slug == strings.ToLower(slug) })
	if i < 0 {
		return oauthProvider{}, false
	}
	return oauthProviders[i], true
}

// oauthFactor is the OAuth sub-object of a session factor; the factor's JSON names it by provider
// (google_oauth_factor, ...), see factor.MarshalJSON.
type oauthFactor struct {
	key             string
	ID              string `json:"id"`
	ProviderSubject string `json:"provider_subject"`
	EmailID         string `json:"email_id"` // "" when the provider gave no email
}

// MarshalJSON writes the factor with its OAuth sub-object, when it has one, under the provider's
// own name, as Stytch does (one optional sub-object per factor kind).
func (f factor) MarshalJSON() ([]byte, error) {
	type plain factor // no methods: no recursion
	b, err := json.Marshal(plain(f))
	if err != nil || f.OAuthFactor == nil {
		return b, err //nolint:wrapcheck // encoding/json adds the context
	}
	sub, err := json.Marshal(f.OAuthFactor)
	if err != nil {
		return nil, err //nolint:wrapcheck // encoding/json adds the context
	}
	key, err := json.Marshal(f.OAuthFactor.key)
	if err != nil {
		return nil, err //nolint:wrapcheck // encoding/json adds the context
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, sub...)
	return append(out, '}'), nil
}

// oauthFlow is a started flow waiting for consent, by its state.
type oauthFlow struct {
	provider      oauthProvider
	loginURL      string
	signupURL     string
	codeChallenge string
	attachUserID  string
	scopes        []string
	loginHint     string
	expiresAt     time.Time
	b2b           *b2bOAuthTarget // a B2B flow (b2b_oauth.go); nil for a consumer one
}

// oauthToken is the single-use token of a granted flow, on the redirect URL.
type oauthToken struct {
	provider      oauthProvider
	subject       string
	email         string
	codeChallenge string
	attachUserID  string
	scopes        []string
	expiresAt     time.Time
	used          bool
	b2b           *b2bOAuthTarget // a B2B flow (b2b_oauth.go); nil for a consumer one
	tenant        string          // the account's tenant at the provider (B2B: workspace, portal, org)
	fullName      string
}

// oauthAttach is a single-use attach token.
type oauthAttach struct {
	provider  oauthProvider
	userID    string
	expiresAt time.Time
}

// oauthStore is the OAuth state of a project, consumer or B2B.
type oauthStore struct {
	flows  map[string]*oauthFlow
	tokens map[string]*oauthToken
	attach map[string]*oauthAttach
	grants map[string][]*oauthGrant // B2B: the provider tokens by member ID (b2b_oauth.go)
}

// oauthState returns the project's OAuth state, made on first use. Caller holds e.mu.
func (e *Emulator) oauthState() *oauthStore {
	if e.oauth == nil {
		e.oauth = &oauthStore{
			flows: map[string]*oauthFlow{}, tokens: map[string]*oauthToken{},
			attach: map[string]*oauthAttach{}, grants: map[string][]*oauthGrant{},
		}
	}
	return e.oauth
}

// prune forgets expired flows, tokens and attach tokens (each start does it, so abandoned flows
// do not pile up in a long-running emulator).
func (st *oauthStore) prune(now time.Time) {
	for k, f := range st.flows {
		if !now.Before(f.expiresAt) {
			delete(st.flows, k)
		}
	}
	for k, t := range st.tokens {
		if !now.Before(t.expiresAt) {
			delete(st.tokens, k)
		}
	}
	for k, a := range st.attach {
		if !now.Before(a.expiresAt) {
			delete(st.attach, k)
		}
	}
}

// PublicToken returns the project's public token, which the OAuth start endpoint requires. It is
// derived from the project ID, so every emulator of one project ID agrees on it.
func (e *Emulator) PublicToken() string {
	sum := sha256.Sum256([]byte("stytchemu public token " + e.projectID))
	h := hex.EncodeToString(sum[:16])
	return "public-token-test-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// pkceChallengeRE is a base64url SHA-256 digest without padding (RFC 7636 S256).
var pkceChallengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// absoluteURL checks a redirect URL: absolute http(s).
func absoluteURL(name, raw, fallback string) (string, *apiError) {
	if raw == "" {
		raw = fallback
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badRequest("%s is not a valid absolute http(s) URL.", name).withType(errInvalidRedirectURL)
	}
	return raw, nil
}

// rawReply is a response that is not Stytch's JSON (a redirect, an HTML page); serveRoute writes
// it as it is.
type rawReply struct {
	status      int
	location    string
	contentType string
	body        []byte
}

func (r rawReply) write(w http.ResponseWriter) {
	if r.location != "" {
		w.Header().Set("Location", r.location)
	}
	if r.contentType != "" {
		w.Header().Set("Content-Type", r.contentType)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// oauthStartQuery checks what every start endpoint shares: the public token, the PKCE challenge
// (under the query name challengeParam), the custom scopes and the login hint.
func (e *Emulator) oauthStartQuery(q url.Values, p oauthProvider, challengeParam string, now time.Time) (*oauthFlow, *apiError) {
	if q.Get("public_token") != e.PublicToken() {
		return nil, newErr(http.StatusUnauthorized, errInvalidPublicToken, "public_token is missing or is not this project's public token.")
	}
	f := &oauthFlow{provider: p, loginHint: q.Get("login_hint"), expiresAt: now.Add(oauthFlowTTL)}
	if c := q.Get(challengeParam); c != "" {
		if !pkceChallengeRE.MatchString(c) {
			return nil, badRequest("%s must be the base64url SHA-256 of the code verifier (43 characters).", challengeParam).withType(errInvalidCodeChallenge)
		}
		f.codeChallenge = c
	}
	for s := range strings.FieldsFuncSeq(q.Get("custom_scopes"), func(r rune) bool { return r == ' ' || r == ',' }) {
		f.scopes = append(f.scopes, s)
	}
	return f, nil
}

// beginOAuthFlow keeps a started flow under a new state and redirects to the stand-in provider's
// consent page. Caller holds e.mu.
func (e *Emulator) beginOAuthFlow(f *oauthFlow) rawReply {
	state := randToken(24)
	e.oauthState().flows[state] = f
	v := url.Values{"project_id": {e.projectID}, "state": {state}}
	return rawReply{status: http.StatusFound, location: "/emulator/oauth/" + f.provider.slug + "/consent?" + v.Encode()}
}

// GET /v1/public/oauth/{provider}/start.
func (e *Emulator) oauthStart(rq *request) (any, error) {
	p, ok := findOAuthProvider(rq.r.PathValue("provider"))
	if !ok {
		return nil, badRequest("The OAuth provider is not one this project supports.").withType(errInvalidOAuthProvider)
	}
	q := rq.r.URL.Query()
	f, aerr := e.oauthStartQuery(q, p, "code_challenge", rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if f.loginURL, aerr = absoluteURL("login_redirect_url", q.Get("login_redirect_url"), e.redirectURL); aerr != nil {
		return nil, aerr
	}
	if f.signupURL, aerr = absoluteURL("signup_redirect_url", q.Get("signup_redirect_url"), e.redirectURL); aerr != nil {
		return nil, aerr
	}
	st := e.oauthState()
	st.prune(rq.now)
	if tok := q.Get("oauth_attach_token"); tok != "" {
		a, ok := st.attach[tok]
		if !ok || !rq.now.Before(a.expiresAt) || a.provider.slug != p.slug || e.cs.findUser(a.userID) == nil {
			return nil, newErr(http.StatusNotFound, errOAuthAttachNotFound, "The oauth_attach_token is unknown, expired, already used or for another provider.")
		}
		delete(st.attach, tok) // single use
		f.attachUserID = a.userID
	}
	return e.beginOAuthFlow(f), nil
}

// POST /v1/oauth/attach.
func (e *Emulator) oauthAttachToken(rq *request) (any, error) {
	var in struct {
		Provider     string `json:"provider"`
		UserID       string `json:"user_id"`
		SessionToken string `json:"session_token"`
		SessionJWT   string `json:"session_jwt"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	p, ok := findOAuthProvider(in.Provider)
	if !ok {
		return nil, badRequest("provider is not an OAuth provider this project supports.").withType(errInvalidOAuthProvider)
	}
	given := 0
	for _, s := range []string{in.UserID, in.SessionToken, in.SessionJWT} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return nil, badRequest("Exactly one of user_id, session_token or session_jwt is required.").withType(errOAuthUserIDArguments)
	}
	var u *user
	if in.UserID != "" {
		if u = e.cs.findUser(in.UserID); u == nil {
			return nil, userNotFound()
		}
	} else {
		ss, aerr := e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		if u = e.cs.users[ss.userID]; u == nil {
			return nil, sessionNotFound()
		}
	}
	tok := randToken(32)
	e.oauthState().attach[tok] = &oauthAttach{provider: p, userID: u.id, expiresAt: rq.now.Add(oauthAttachTTL)}
	return obj{"oauth_attach_token": tok}, nil
}

// oauthSubject is the stand-in provider's subject for an email address when the consent names
// none: stable, so the same account signs in again as the same identity.
func oauthSubject(p oauthProvider, email string) string {
	sum := sha256.Sum256([]byte(p.slug + "\x00" + strings.ToLower(email)))
	return hex.EncodeToString(sum[:12])
}

// registration finds a user's registration of provider p with subject.
func (s *consumerStore) oauthRegistration(p oauthProvider, subject string) (*user, *seededFactor) {
	for _, id := range s.userOrder {
		u := s.users[id]
		for i := range u.factors {
			f := &u.factors[i]
			if f.kind == FactorOAuth && f.wire["provider_type"] == p.name && f.wire["provider_subject"] == subject {
				return u, f
			}
		}
	}
	return nil, nil
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with {{.Name}} (stytchemu)</title></head>
<body>
<h1>Sign in with {{.Name}}</h1>
<p>A stand-in for {{.Name}}'s consent page, served by the Stytch emulator. Name the {{.Name}} account to sign in as.</p>
<form method="get" action="/emulator/oauth/{{.Slug}}/consent">
<input type="hidden" name="project_id" value="{{.ProjectID}}">
<input type="hidden" name="state" value="{{.State}}">
<p><label>Email <input type="email" name="email" value="{{.Email}}" required></label></p>
<p><label>Subject at {{.Name}} (empty: derived from the email) <input type="text" name="subject"></label></p>
{{if .B2B}}<p><label>Full name (empty: derived from the email) <input type="text" name="name"></label></p>
<p><label>Tenant at {{.Name}} (workspace, portal or organization; empty: the email's domain) <input type="text" name="tenant"></label></p>
{{end}}<p>Scopes: {{range .Scopes}}{{.}} {{end}}</p>
<p><button type="submit" name="allow" value="true">Allow</button></p>
</form>
</body></html>
`))

// defaultOAuthScopes are the scopes every stand-in provider grants besides the custom ones.
var defaultOAuthScopes = []string{"openid", "email", "profile"}

// handleOAuthConsent serves the stand-in consent page (an emulator control path: no Basic auth,
// not a Stytch endpoint).
func (e *Emulator) handleOAuthConsent(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	reply := e.oauthConsent(r, e.clock.Now())
	e.mu.Unlock()
	reply.write(w)
}

func consentError(status int, typ, msg string) rawReply {
	b, _ := json.Marshal(map[string]any{"status_code": status, "error_type": typ, "error_message": msg}) //nolint:errchkjson // strings only
	return rawReply{status: status, contentType: "application/json", body: b}
}

// oauthConsent decides one consent request. Caller holds e.mu.
func (e *Emulator) oauthConsent(r *http.Request, now time.Time) rawReply {
	q := r.URL.Query()
	st := e.oauthState()
	f, ok := st.flows[q.Get("state")]
	if !ok || !now.Before(f.expiresAt) || f.provider.slug != r.PathValue("provider") {
		return consentError(http.StatusNotFound, errOAuthFlowNotFound, "This sign-in is unknown or expired: start again.")
	}
	scopes := append(slices.Clone(defaultOAuthScopes), f.scopes...)
	if q.Get("allow") != "true" {
		email := q.Get("email")
		if email == "" {
			email = f.loginHint
		}
		var page strings.Builder
		err := consentPage.Execute(&page, map[string]any{
			"Name": f.provider.name, "Slug": f.provider.slug, "ProjectID": e.projectID, "State": q.Get("state"), "Email": email, "Scopes": scopes,
			"B2B": f.b2b != nil,
		})
		if err != nil {
			return consentError(http.StatusInternalServerError, errInternal, "The consent page could not be rendered.")
		}
		return rawReply{status: http.StatusOK, contentType: "text/html; charset=utf-8", body: []byte(page.String())}
	}
	email := q.Get("email")
	if !validEmail(email) {
		return consentError(http.StatusBadRequest, errOAuthConsentIncorrect, "email must be a valid email address.")
	}
	subject := q.Get("subject")
	if subject == "" {
		subject = oauthSubject(f.provider, email)
	}
	if len(subject) > 255 {
		return consentError(http.StatusBadRequest, errOAuthConsentIncorrect, "subject must be at most 255 characters.")
	}
	tenant, name := q.Get("tenant"), q.Get("name")
	if tenant == "" {
		tenant = emailDomain(email)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if len(tenant) > 255 || len(name) > 255 {
		return consentError(http.StatusBadRequest, errOAuthConsentIncorrect, "tenant and name must be at most 255 characters.")
	}
	delete(st.flows, q.Get("state")) // one grant per flow
	tok := randToken(32)
	t := &oauthToken{
		provider: f.provider, subject: subject, email: email, codeChallenge: f.codeChallenge,
		attachUserID: f.attachUserID, scopes: scopes, expiresAt: now.Add(oauthTokenTTL),
		b2b: f.b2b, tenant: tenant, fullName: name,
	}
	st.tokens[tok] = t
	target, tokenType := e.consumerOAuthRedirect(f, t), "oauth"
	if f.b2b != nil {
		target, tokenType = e.b2bOAuthRedirect(f, t)
	}
	ru, _ := url.Parse(target) // checked at start
	v := ru.Query()
	v.Set("stytch_token_type", tokenType)
	v.Set("token", tok)
	ru.RawQuery = v.Encode()
	return rawReply{status: http.StatusFound, location: ru.String()}
}

// consumerOAuthRedirect picks the redirect URL of a granted consumer flow: an identity Stytch
// already knows (its registration, the attach token's user, a user with the address) logs in; any
// other signs up. Caller holds e.mu.
func (e *Emulator) consumerOAuthRedirect(f *oauthFlow, t *oauthToken) string {
	if u, _ := e.cs.oauthRegistration(f.provider, t.subject); u != nil || f.attachUserID != "" {
		return f.loginURL
	}
	if u, _ := e.cs.userByEmail(t.email); u != nil {
		return f.loginURL
	}
	return f.signupURL
}

// oauthTokenKind tells the tokens of the three flows apart: each authenticate endpoint redeems
// only its own kind, and any other token is not found.
type oauthTokenKind int

const (
	oauthKindConsumer oauthTokenKind = iota
	oauthKindB2BLogin
	oauthKindB2BDiscovery
)

func (t *oauthToken) kind() oauthTokenKind {
	switch {
	case t.b2b == nil:
		return oauthKindConsumer
	case t.b2b.discovery:
		return oauthKindB2BDiscovery
	default:
		return oauthKindB2BLogin
	}
}

// redeemableOAuthToken finds an unused, unexpired token of kind and checks the PKCE verifier
// (sent under verifierParam) against the flow's challenge. It does not spend the token: the
// caller marks it used once the rest of the request is accepted. Caller holds e.mu.
func (e *Emulator) redeemableOAuthToken(token, verifierParam, verifier string, kind oauthTokenKind, now time.Time) (*oauthToken, *apiError) {
	t, ok := e.oauthState().tokens[token]
	if !ok || t.kind() != kind {
		return nil, newErr(http.StatusNotFound, errOAuthTokenNotFound, "OAuth token could not be found.")
	}
	if t.used || !now.Before(t.expiresAt) {
		return nil, newErr(http.StatusUnauthorized, errUnableToAuthOAuth, "OAuth token could not be authenticated because it was either already used or expired. Start the OAuth flow again.")
	}
	if t.codeChallenge != "" && !pkceMatches(verifier, t.codeChallenge) {
		return nil, badRequest("%s does not match the code challenge of the OAuth flow.", verifierParam).withType(errPKCEMismatch)
	}
	return t, nil
}

// factor is the session factor of a redeemed token: registration regID, email emailID ("" when
// none).
func (t *oauthToken) factor(regID, emailID string, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "oauth", DeliveryMethod: "oauth_" + t.provider.slug, LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		OAuthFactor: &oauthFactor{key: t.provider.key, ID: regID, ProviderSubject: t.subject, EmailID: emailID},
	}
}

// POST /v1/oauth/authenticate.
func (e *Emulator) oauthAuthenticate(rq *request) (any, error) {
	var in struct {
		Token        string `json:"token"`
		CodeVerifier string `json:"code_verifier"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("token is required.")
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	t, aerr := e.redeemableOAuthToken(in.Token, "code_verifier", in.CodeVerifier, oauthKindConsumer, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	var ss *userSession
	if in.SessionToken != "" || in.SessionJWT != "" {
		var aerr *apiError
		if ss, aerr = e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	u, reg, aerr := e.oauthUser(t, ss, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if ss != nil && ss.userID != u.id {
		ss = nil // a session of another user is ignored, as Stytch documents
	}
	t.used = true // kept until it expires, so a replay is "already used"
	var emailID string
	for _, em := range u.emails {
		if strings.EqualFold(em.Email, t.email) {
			em.Verified = true // the provider vouched for it
			emailID = em.EmailID
		}
	}
	f := t.factor(reg.id, emailID, rq.now)
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	if s, ok := res["session"]; ok {
		res["user_session"] = s // Stytch's name for the session of this endpoint
		delete(res, "session")
	}
	values, err := e.oauthProviderValues(t, rq.now)
	if err != nil {
		return nil, err
	}
	res["provider_subject"], res["provider_type"], res["provider_values"] = t.subject, t.provider.name, values
	res["oauth_user_registration_id"] = reg.id
	return res, nil
}

// oauthUser finds the user a granted token signs in, linking the identity when it is new: its
// registration's user, else the attach token's, else the session's, else the user holding the
// address; otherwise a new user with the address. Caller holds e.mu.
func (e *Emulator) oauthUser(t *oauthToken, ss *userSession, now time.Time) (*user, *seededFactor, *apiError) {
	if u, reg := e.cs.oauthRegistration(t.provider, t.subject); u != nil {
		return u, reg, nil
	}
	var u *user
	switch {
	case t.attachUserID != "":
		if u = e.cs.findUser(t.attachUserID); u == nil {
			return nil, nil, userNotFound()
		}
	case ss != nil:
		u = e.cs.users[ss.userID]
	}
	if u == nil {
		u, _ = e.cs.userByEmail(t.email)
	}
	if u == nil {
		var aerr *apiError
		if u, aerr = e.createUser(userInput{Email: t.email}, now); aerr != nil {
			return nil, nil, aerr
		}
	}
	id := "oauth-user-registration-test-" + newUUID()
	u.factors = append(u.factors, seededFactor{kind: FactorOAuth, id: id, wire: obj{
		"provider_type": t.provider.name, "provider_subject": t.subject,
		"profile_picture_url": "https://example.com/" + t.provider.slug + "/" + url.PathEscape(t.subject) + ".png",
		"locale":              "en", "oauth_user_registration_id": id,
	}})
	return u, &u.factors[len(u.factors)-1], nil
}

// oauthProviderValues are the stand-in provider's tokens: random access and refresh tokens and,
// for OpenID Connect providers, an id_token signed with the project's key (issuer: the stand-in
// provider, audience: the project).
func (e *Emulator) oauthProviderValues(t *oauthToken, now time.Time) (obj, error) {
	idToken := ""
	if t.provider.oidc {
		var err error
		idToken, err = e.keys.sign(jwt.MapClaims{
			"iss": "https://stytchemu.invalid/oauth/" + t.provider.slug, "sub": t.subject, "aud": e.projectID,
			"email": t.email, "email_verified": true, "iat": now.Unix(), "exp": now.Add(oauthAccessTokenTTL).Unix(),
		})
		if err != nil {
			return nil, fmt.Errorf("sign id_token: %w", err)
		}
	}
	return obj{
		"access_token": "access-token-test-" + randToken(32), "refresh_token": "refresh-token-test-" + randToken(32),
		"id_token": idToken, "scopes": t.scopes, "expires_at": rfc3339(now.Add(oauthAccessTokenTTL)),
	}, nil
}
