package stytchemu

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	minLinkMins = 5
	maxLinkMins = 10080
)

func expiryMinutes(field string, v *int, def, lo, hi int) (time.Duration, *apiError) {
	if v == nil {
		return time.Duration(def) * time.Minute, nil
	}
	if *v < lo || *v > hi {
		return 0, badRequest("%s must be between %d and %d.", field, lo, hi)
	}
	return time.Duration(*v) * time.Minute, nil
}

func isSandboxEmail(e *Emulator, email string) bool {
	return e.sandbox && strings.EqualFold(email, SandboxEmail)
}

// sendMagicLink registers a single-use token and puts the email in the outbox.
func (e *Emulator) sendMagicLink(template, orgID, memberID, email, redirect, pkce string, ttl time.Duration, now time.Time) *apiError {
	if isSandboxEmail(e, email) {
		return nil // Stytch's sandbox address: 200, nothing sent.
	}
	if redirect == "" {
		redirect = e.redirectURL
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return badRequest("The redirect URL is not a valid absolute URL.")
	}
	tok := randToken(32)
	tokenType := "multi_tenant_magic_links" //nolint:gosec // G101: a token type name, not a credential
	if template == TemplateDiscovery {
		tokenType = "discovery"
	}
	q := u.Query()
	q.Set("stytch_token_type", tokenType)
	q.Set("token", tok)
	u.RawQuery = q.Encode()
	e.st.magicLinks[tok] = &magicLink{
		token: tok, template: template, orgID: orgID, memberID: memberID, email: email,
		expiresAt: now.Add(ttl), pkceChallenge: pkce,
	}
	e.send(Message{
		Kind: KindEmail, Method: MethodMagicLink, Template: template, To: email,
		OrganizationID: orgID, MemberID: memberID, Token: tok, URL: u.String(),
		SentAt: now, ExpiresAt: now.Add(ttl),
	})
	return nil
}

func linkNotFound() *apiError {
	return newErr(http.StatusNotFound, errMagicLinkNotFound, "Magic link could not be found.")
}

func linkUnusable() *apiError {
	return newErr(http.StatusUnauthorized, errUnableToAuthMagicLink, "Magic link could not be authenticated because it was either already used or expired. Send another magic link.")
}

// takeMagicLink validates and consumes a token of the wanted kind.
func (e *Emulator) takeMagicLink(tok, verifier string, discovery bool, now time.Time) (*magicLink, *apiError) {
	ml, ok := e.st.magicLinks[tok]
	if !ok || (ml.template == TemplateDiscovery) != discovery {
		return nil, linkNotFound()
	}
	if ml.used || !now.Before(ml.expiresAt) {
		return nil, linkUnusable()
	}
	if ml.pkceChallenge != "" && !pkceMatches(verifier, ml.pkceChallenge) {
		return nil, badRequest("pkce_code_verifier does not match the pkce_code_challenge of the magic link.").withType(errPKCEMismatch)
	}
	ml.used = true
	return ml, nil
}

func (e *Emulator) orgByField(ref string) (*organization, *apiError) {
	if ref == "" {
		return nil, badRequest("organization_id is required.")
	}
	o := e.st.findOrg(ref)
	if o == nil {
		return nil, orgNotFound()
	}
	return o, nil
}

// loginOrSignupMember finds or creates (pending) the member for a
// login_or_signup call and says which template applies.
func (e *Emulator) loginOrSignupMember(org *organization, email string, now time.Time) (*member, bool, string, *apiError) {
	if email == "" {
		return nil, false, "", badRequest("email_address is required.")
	}
	if !validEmail(email) {
		return nil, false, "", newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
	}
	if m := e.st.memberByEmail(org.OrganizationID, email); m != nil {
		if m.Status == statusActive {
			return m, false, TemplateLogin, nil
		}
		return m, false, TemplateSignup, nil
	}
	m, aerr := e.createMember(org, memberInput{EmailAddress: email}, statusPending, now)
	return m, true, TemplateSignup, aerr
}

func (e *Emulator) mlLoginOrSignup(rq *request) (any, error) {
	var in struct {
		OrganizationID          string `json:"organization_id"`
		EmailAddress            string `json:"email_address"`
		LoginRedirectURL        string `json:"login_redirect_url"`
		SignupRedirectURL       string `json:"signup_redirect_url"`
		PKCECodeChallenge       string `json:"pkce_code_challenge"`
		LoginExpirationMinutes  *int   `json:"login_expiration_minutes"`
		SignupExpirationMinutes *int   `json:"signup_expiration_minutes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	loginTTL, aerr := expiryMinutes("login_expiration_minutes", in.LoginExpirationMinutes, defaultMagicLinkMins, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	signupTTL, aerr := expiryMinutes("signup_expiration_minutes", in.SignupExpirationMinutes, defaultMagicLinkMins, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	m, created, tmpl, aerr := e.loginOrSignupMember(org, in.EmailAddress, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	redirect, ttl := in.LoginRedirectURL, loginTTL
	if tmpl == TemplateSignup {
		redirect, ttl = in.SignupRedirectURL, signupTTL
	}
	if aerr := e.sendMagicLink(tmpl, org.OrganizationID, m.MemberID, m.EmailAddress, redirect, in.PKCECodeChallenge, ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	res := e.memberResult(m)
	res["member_created"] = created
	return res, nil
}

func (e *Emulator) mlInvite(rq *request) (any, error) {
	var in struct {
		OrganizationID          string         `json:"organization_id"`
		EmailAddress            string         `json:"email_address"`
		InviteRedirectURL       string         `json:"invite_redirect_url"`
		InvitedByMemberID       string         `json:"invited_by_member_id"`
		Name                    string         `json:"name"`
		TrustedMetadata         map[string]any `json:"trusted_metadata"`
		UntrustedMetadata       map[string]any `json:"untrusted_metadata"`
		Roles                   []string       `json:"roles"`
		InviteExpirationMinutes *int           `json:"invite_expiration_minutes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, org.OrganizationID, "", "stytch.member", "create"); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	if !validEmail(in.EmailAddress) {
		return nil, newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
	}
	switch org.EmailInvites {
	case notAllowed:
		return nil, newErr(http.StatusForbidden, errEmailInvitesNotAllowed, "This organization does not allow email invites.")
	case restricted:
		if !jitEligibleDomain(org, in.EmailAddress) {
			return nil, newErr(http.StatusForbidden, errEmailInvitesNotAllowed, "This organization only allows invites to its allowed email domains.")
		}
	}
	ttl, aerr := expiryMinutes("invite_expiration_minutes", in.InviteExpirationMinutes, defaultInviteMins, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.memberByEmail(org.OrganizationID, in.EmailAddress)
	switch {
	case m != nil && m.Status == statusActive:
		return nil, badRequest("The member is already active in the organization.").withType(errInviteActiveMember)
	case m != nil:
		m.Status = statusInvited
		m.UpdatedAt = rfc3339(rq.now)
	default:
		m, aerr = e.createMember(org, memberInput{
			EmailAddress: in.EmailAddress, Name: in.Name, Roles: in.Roles,
			TrustedMetadata: in.TrustedMetadata, UntrustedMetadata: in.UntrustedMetadata,
		}, statusInvited, rq.now)
		if aerr != nil {
			return nil, aerr
		}
	}
	if aerr := e.sendMagicLink(TemplateInvite, org.OrganizationID, m.MemberID, m.EmailAddress, in.InviteRedirectURL, "", ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	return e.memberResult(m), nil
}

func jitEligibleDomain(org *organization, email string) bool {
	d := emailDomain(email)
	for _, a := range org.EmailAllowedDomains {
		if strings.EqualFold(a, d) {
			return true
		}
	}
	return false
}

func (e *Emulator) mlDiscoverySend(rq *request) (any, error) {
	var in struct {
		EmailAddress               string `json:"email_address"`
		DiscoveryRedirectURL       string `json:"discovery_redirect_url"`
		PKCECodeChallenge          string `json:"pkce_code_challenge"`
		DiscoveryExpirationMinutes *int   `json:"discovery_expiration_minutes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	if !validEmail(in.EmailAddress) {
		return nil, newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
	}
	ttl, aerr := expiryMinutes("discovery_expiration_minutes", in.DiscoveryExpirationMinutes, defaultMagicLinkMins, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.sendMagicLink(TemplateDiscovery, "", "", in.EmailAddress, in.DiscoveryRedirectURL, in.PKCECodeChallenge, ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	return obj{}, nil
}

func (e *Emulator) mlAuthenticate(rq *request) (any, error) {
	var in struct {
		MagicLinksToken  string `json:"magic_links_token"`
		PKCECodeVerifier string `json:"pkce_code_verifier"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.MagicLinksToken == "" {
		return nil, badRequest("magic_links_token is required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	var m *member
	if e.sandbox {
		switch in.MagicLinksToken {
		case SandboxMagicLinkToken:
			m = e.st.members[SandboxMemberID]
		case SandboxMagicLinkTokenUnauth:
			return nil, linkUnusable()
		case SandboxMagicLinkTokenNotFound:
			return nil, linkNotFound()
		}
	}
	if m == nil {
		ml, aerr := e.takeMagicLink(in.MagicLinksToken, in.PKCECodeVerifier, false, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		m = e.st.findMember(ml.orgID, ml.memberID, false)
		// The link of an email update proves the new address: the change
		// lands, then the member logs in like with any login link.
		if m != nil && ml.template == TemplateEmailUpdate && !e.finishEmailUpdate(m, ml.email, rq.now) {
			return nil, linkUnusable()
		}
	}
	if m == nil {
		return nil, memberNotFound()
	}
	org := e.st.orgs[m.OrganizationID]
	res, err := e.completeAuth(rq, org, m, emailFactorFor("magic_link", m, rq.now), in.sessionArgs)
	if err != nil {
		return nil, err
	}
	res["method_id"] = m.emailID
	res["reset_sessions"] = false
	return res, nil
}

func (e *Emulator) mlDiscoveryAuthenticate(rq *request) (any, error) {
	var in struct {
		DiscoveryMagicLinksToken string `json:"discovery_magic_links_token"`
		PKCECodeVerifier         string `json:"pkce_code_verifier"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.DiscoveryMagicLinksToken == "" {
		return nil, badRequest("discovery_magic_links_token is required.")
	}
	ml, aerr := e.takeMagicLink(in.DiscoveryMagicLinksToken, in.PKCECodeVerifier, true, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	f := discoveryEmailFactor("magic_link", ml.email, rq.now)
	ist := e.newDiscoveryIST(ml.email, f, rq.now)
	return obj{
		"intermediate_session_token": ist.token,
		"email_address":              ml.email,
		"discovered_organizations":   e.discoveredOrganizations(ml.email, ist.factors),
	}, nil
}
