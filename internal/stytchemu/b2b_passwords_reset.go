package stytchemu

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/passwords"
)

// The rest of the B2B passwords: resets with the existing password or a
// session, an administrator's forced reset, and the discovery flows.
//
// The discovery flows run as Stytch's cross-organization passwords: one
// password per email address, shared by every member with that address. A
// discovery login checks the password against those members' passwords and
// a discovery reset stores the new password on all of them. An address with
// no member anywhere has no password to reset (member_not_found): such a
// person signs up through the discovery magic link or email code instead.

func tooManySessionArgs() *apiError {
	return newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
}

// endOtherSessions ends every session of m except keep (nil: all).
func (e *Emulator) endOtherSessions(m *member, keep *memberSession) {
	for _, ss := range e.st.sessions {
		if ss.memberID == m.MemberID && ss != keep {
			e.st.deleteSession(ss)
		}
	}
}

// POST /v1/b2b/passwords/existing_password/reset: the member proves the
// current password (one that must be reset is accepted here: this is how it
// gets reset) and sets a new one, which must pass the strength policy. The
// outcome is a login; the member's other sessions end.
func (e *Emulator) b2bPasswordResetExisting(rq *request) (any, error) {
	var in struct {
		OrganizationID   string `json:"organization_id"`
		EmailAddress     string `json:"email_address"`
		ExistingPassword string `json:"existing_password"`
		NewPassword      string `json:"new_password"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, tooManySessionArgs()
	}
	switch {
	case in.EmailAddress == "":
		return nil, badRequest("email_address is required.")
	case in.ExistingPassword == "":
		return nil, badRequest("existing_password is required.")
	case in.NewPassword == "":
		return nil, badRequest("new_password is required.")
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.memberByEmail(org.OrganizationID, in.EmailAddress)
	if m == nil || m.MemberPasswordID == "" {
		return nil, wrongCredentials()
	}
	ok, _, err := e.pw.verify(m.pw, in.ExistingPassword)
	if err != nil && !errors.Is(err, passwords.ErrMalformedHash) {
		return nil, err
	}
	if !ok {
		return nil, wrongCredentials()
	}
	if aerr, err := e.pw.checkNew(in.NewPassword, m.EmailAddress); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	var keep *memberSession
	if in.SessionToken != "" || in.SessionJWT != "" {
		if keep, aerr = e.resolveSession(in.SessionToken, in.SessionJWT, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	h, err := e.pw.hasher.Hash(in.NewPassword)
	if err != nil {
		return nil, err
	}
	e.storeMemberPassword(m, &storedPassword{hash: h})
	m.UpdatedAt = rfc3339(rq.now)
	e.endOtherSessions(m, keep)
	in.IntermediateSessionToken = "" // not a parameter of this endpoint
	res, err := e.completeAuth(rq, org, m, passwordFactorFor(m, rq.now), in.sessionArgs)
	if err != nil {
		return nil, err
	}
	delete(res, "organization_id") // not declared by this response
	return res, nil
}

// POST /v1/b2b/passwords/session/reset: a new password for the session's
// member, whose session must hold a password or email factor from the last
// five minutes (a stolen, idle session cannot change the password). The
// session carries on (extended when session_duration_minutes is given);
// every other session of the member ends.
func (e *Emulator) b2bPasswordResetBySession(rq *request) (any, error) {
	var in struct {
		OrganizationID         string         `json:"organization_id"`
		Password               string         `json:"password"`
		SessionToken           string         `json:"session_token"`
		SessionJWT             string         `json:"session_jwt"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.SessionToken != "" && in.SessionJWT != "":
		return nil, tooManySessionArgs()
	case in.SessionToken == "" && in.SessionJWT == "":
		return nil, badRequest("session_token or session_jwt is required.")
	case in.Password == "":
		return nil, badRequest("password is required.")
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	d, aerr := sessionDuration(in.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if ss.orgID != org.OrganizationID {
		return nil, badRequest("The session belongs to a different organization than organization_id.")
	}
	m := e.st.findMember(ss.orgID, ss.memberID, false)
	if m == nil {
		return nil, sessionNotFound()
	}
	if !recentEmailFactor(ss.factors, rq.now) {
		return nil, newErr(http.StatusBadRequest, errSessionTooOld,
			"The session needs a password, email magic link or email OTP factor from the last 5 minutes to reset the password.")
	}
	if aerr, err := e.pw.checkNew(in.Password, m.EmailAddress); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	cc, aerr := mergeClaims(ss.customClaims, in.SessionCustomClaims)
	if aerr != nil {
		return nil, aerr
	}
	h, err := e.pw.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	e.storeMemberPassword(m, &storedPassword{hash: h})
	m.UpdatedAt = rfc3339(rq.now)
	e.endOtherSessions(m, ss)
	ss.customClaims = cc
	ss.lastAccessedAt = rq.now
	if in.SessionDurationMinutes != nil {
		ss.expiresAt = rq.now.Add(d)
	}
	res, err := e.authenticatedResult(m, ss, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "organization_id") // not declared by this response
	return res, nil
}

// POST /v1/b2b/passwords/email/require_reset: an administrator forces a
// reset: the member's password keeps matching but a login with it answers
// reset_password until the member resets it (by email, or with the
// existing password). Scope: the member with member_id (its email must
// match), else the member with the email in organization_id, else
// (cross-organization passwords) every member with the email; the answer
// names the first. Sessions are left alone: ending them is
// sessions/revoke's job.
func (e *Emulator) b2bPasswordRequireReset(rq *request) (any, error) {
	var in struct {
		EmailAddress   string `json:"email_address"`
		OrganizationID string `json:"organization_id"`
		MemberID       string `json:"member_id"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	orgID := ""
	if in.OrganizationID != "" {
		org, aerr := e.orgByField(in.OrganizationID)
		if aerr != nil {
			return nil, aerr
		}
		orgID = org.OrganizationID
	}
	var targets []*member
	switch {
	case in.MemberID != "":
		m := e.st.findMember(orgID, in.MemberID, false)
		if m == nil || (orgID != "" && m.OrganizationID != orgID) || !strings.EqualFold(m.EmailAddress, in.EmailAddress) {
			return nil, memberNotFound()
		}
		targets = []*member{m}
	case orgID != "":
		if m := e.st.memberByEmail(orgID, in.EmailAddress); m != nil {
			targets = []*member{m}
		}
	default:
		targets = e.membersByEmail(in.EmailAddress)
	}
	if len(targets) == 0 {
		return nil, memberNotFound()
	}
	for _, m := range targets {
		if m.pw != nil {
			m.pw.requiresReset = true
			m.UpdatedAt = rfc3339(rq.now)
		}
	}
	return e.memberResult(targets[0]), nil
}

// membersByEmail is every live member with email, in creation order.
func (e *Emulator) membersByEmail(email string) []*member {
	var out []*member
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if m.Status != statusDeleted && strings.EqualFold(m.EmailAddress, email) {
			out = append(out, m)
		}
	}
	return out
}

func discoveryPasswordFactor(email string, now time.Time) factor {
	f := discoveryEmailFactor("password", email, now)
	f.DeliveryMethod = "knowledge"
	return f
}

// discoveryResult is a discovery login's answer: an intermediate session
// bound to no organization and the organizations email may enter.
func (e *Emulator) discoveryResult(email string, now time.Time) obj {
	ist := e.newDiscoveryIST(email, discoveryPasswordFactor(email, now), now)
	return obj{
		"intermediate_session_token": ist.token,
		"email_address":              email,
		"discovered_organizations":   e.discoveredOrganizations(email, ist.factors),
	}
}

// POST /v1/b2b/passwords/discovery/authenticate: the email's password,
// checked against the passwords of the members with that email. Every
// refusal (no such email, no password, a wrong one) is
// unauthorized_credentials alike; a matching password that must be reset
// answers reset_password.
func (e *Emulator) b2bPasswordDiscoveryAuthenticate(rq *request) (any, error) {
	var in struct {
		EmailAddress string `json:"email_address"`
		Password     string `json:"password"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	if in.Password == "" {
		return nil, badRequest("password is required.")
	}
	var lastErr error = wrongCredentials()
	matched := false
	for _, m := range e.membersByEmail(in.EmailAddress) {
		if m.pw == nil {
			continue
		}
		err := e.pw.login(m.pw, in.Password)
		var aerr *apiError
		if errors.As(err, &aerr) && aerr.typ == errUnauthorized {
			continue
		}
		if err != nil {
			lastErr = err // reset_password, or a failure of the kit
			continue
		}
		matched = true
	}
	if !matched {
		return nil, lastErr
	}
	return e.discoveryResult(in.EmailAddress, rq.now), nil
}

// POST /v1/b2b/passwords/discovery/email/reset/start: email a discovery
// reset link to an address that has a member somewhere.
func (e *Emulator) b2bPasswordDiscoveryResetStart(rq *request) (any, error) {
	var in struct {
		EmailAddress          string `json:"email_address"`
		RedirectURL           string `json:"reset_password_redirect_url"`
		DiscoveryRedirectURL  string `json:"discovery_redirect_url"`
		TemplateID            string `json:"reset_password_template_id"`
		ExpirationMinutes     *int   `json:"reset_password_expiration_minutes"`
		PKCECodeChallenge     string `json:"pkce_code_challenge"`
		Locale                string `json:"locale"`
		VerifyEmailTemplateID string `json:"verify_email_template_id"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	ttl, ru, aerr := e.resetStart(in.ExpirationMinutes, in.Locale, in.RedirectURL)
	if aerr != nil {
		return nil, aerr
	}
	ms := e.membersByEmail(in.EmailAddress)
	if len(ms) == 0 {
		return nil, memberNotFound()
	}
	tok := withToken(ru, "discovery")
	e.st.memberResets[tok] = &memberReset{discovery: true, email: ms[0].EmailAddress, expiresAt: rq.now.Add(ttl), pkce: in.PKCECodeChallenge}
	e.send(Message{
		Kind: KindEmail, Method: MethodMagicLink, Template: TemplateResetPassword, To: ms[0].EmailAddress,
		Token: tok, URL: ru.String(), SentAt: rq.now, ExpiresAt: rq.now.Add(ttl),
	})
	return obj{}, nil
}

// POST /v1/b2b/passwords/discovery/email/reset: spend a discovery reset
// token on a new password, stored on every member with the email (their
// sessions end), and log in for discovery.
func (e *Emulator) b2bPasswordDiscoveryReset(rq *request) (any, error) {
	var in struct {
		Token        string `json:"password_reset_token"`
		Password     string `json:"password"`
		CodeVerifier string `json:"pkce_code_verifier"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("password_reset_token is required.")
	}
	rs, ok := e.st.memberResets[in.Token]
	if !ok || !rs.discovery {
		return nil, linkNotFound()
	}
	if rs.used || !rq.now.Before(rs.expiresAt) {
		return nil, linkUnusable()
	}
	if rs.pkce != "" && !pkceMatches(in.CodeVerifier, rs.pkce) {
		return nil, badRequest("pkce_code_verifier does not match the pkce_code_challenge of the reset.").withType(errPKCEMismatch)
	}
	if aerr, err := e.pw.checkNew(in.Password, rs.email); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	h, err := e.pw.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	rs.used = true
	for _, m := range e.membersByEmail(rs.email) {
		e.storeMemberPassword(m, &storedPassword{hash: h})
		m.EmailAddressVerified = true // the token proved the address
		m.UpdatedAt = rfc3339(rq.now)
		e.endOtherSessions(m, nil)
	}
	return e.discoveryResult(rs.email, rq.now), nil
}
