package stytchemu

import (
	"net/http"
	"time"
)

// B2B passwords (POST /v1/b2b/passwords/...). The hashing, the migrated-hash
// verification and the strength policy are the consumer passwords' kit
// (passwords.go): one implementation for both project types. A member's
// password is held on the member (pw) next to its member_password_id.

func passwordFactorFor(m *member, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "password", DeliveryMethod: "knowledge",
		LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		EmailFactor: &emailFactor{EmailID: m.emailID, EmailAddress: m.EmailAddress},
	}
}

// storeMemberPassword gives m sp, keeping m's member_password_id when it
// has one; caller holds e.mu.
func (e *Emulator) storeMemberPassword(m *member, sp *storedPassword) {
	if m.MemberPasswordID == "" {
		m.MemberPasswordID = "member-password-test-" + newUUID()
		e.st.passwords[m.MemberPasswordID] = m.MemberID
	}
	sp.id = m.MemberPasswordID
	m.pw = sp
}

// memberWithPassword checks an organization member's email and password:
// unauthorized_credentials alike for an unknown email, a member without a
// password and a wrong password (no member enumeration); reset_password for
// a password that must be reset first. A match replaces an imported or
// outdated hash with a native one.
func (e *Emulator) memberWithPassword(orgRef, email, password string) (*organization, *member, error) {
	if email == "" {
		return nil, nil, badRequest("email_address is required.")
	}
	if password == "" {
		return nil, nil, badRequest("password is required.")
	}
	org, aerr := e.orgByField(orgRef)
	if aerr != nil {
		return nil, nil, aerr
	}
	m := e.st.memberByEmail(org.OrganizationID, email)
	if m == nil || m.MemberPasswordID == "" {
		return nil, nil, wrongCredentials()
	}
	if err := e.pw.login(m.pw, password); err != nil {
		return nil, nil, err
	}
	return org, m, nil
}

// POST /v1/b2b/passwords/authenticate: a primary factor, so an organization
// (or member) requiring MFA gets an intermediate session as magic links do.
func (e *Emulator) b2bPasswordAuthenticate(rq *request) (any, error) {
	var in struct {
		OrganizationID string `json:"organization_id"`
		EmailAddress   string `json:"email_address"`
		Password       string `json:"password"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	org, m, err := e.memberWithPassword(in.OrganizationID, in.EmailAddress, in.Password)
	if err != nil {
		return nil, err
	}
	return e.completeAuth(rq, org, m, passwordFactorFor(m, rq.now), in.sessionArgs)
}

// POST /v1/b2b/passwords/strength_check.
func (e *Emulator) b2bPasswordStrengthCheck(rq *request) (any, error) {
	var in struct {
		Password     string `json:"password"`
		EmailAddress string `json:"email_address"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	r, err := e.pw.strength(in.Password, in.EmailAddress)
	if err != nil {
		return nil, err
	}
	res := obj{
		"valid_password": r.ValidPassword, "score": r.Score, "breached_password": r.BreachedPassword,
		"strength_policy": string(r.StrengthPolicy), "breach_detection_on_create": r.BreachDetectionOnCreate,
		"zxcvbn_feedback": obj{"warning": r.Feedback.Warning, "suggestions": r.Feedback.Suggestions},
	}
	if l := ludsWire(r); l != nil {
		res["luds_feedback"] = l
	}
	return res, nil
}

// POST /v1/b2b/passwords/migrate: store an imported hash for the member
// with the email (created, active, when there is none). The hash is checked
// for real at the first authenticate, which stores a native hash instead.
func (e *Emulator) b2bPasswordMigrate(rq *request) (any, error) {
	var in struct {
		OrganizationID         string         `json:"organization_id"`
		EmailAddress           string         `json:"email_address"`
		Name                   string         `json:"name"`
		TrustedMetadata        map[string]any `json:"trusted_metadata"`
		UntrustedMetadata      map[string]any `json:"untrusted_metadata"`
		Roles                  []string       `json:"roles"`
		MFAPhoneNumber         string         `json:"mfa_phone_number"`
		SetPhoneNumberVerified bool           `json:"set_phone_number_verified"`
		ExternalID             string         `json:"external_id"`
		hashImportJSON
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	imp, err := e.pw.parseImport(in.hashImportJSON)
	if err != nil {
		return nil, err
	}
	m := e.st.memberByEmail(org.OrganizationID, in.EmailAddress)
	created := m == nil
	if created {
		if m, aerr = e.createMember(org, memberInput{
			EmailAddress: in.EmailAddress, Name: in.Name, TrustedMetadata: in.TrustedMetadata,
			UntrustedMetadata: in.UntrustedMetadata, Roles: in.Roles, MFAPhoneNumber: in.MFAPhoneNumber,
			ExternalID: in.ExternalID,
		}, statusActive, rq.now); aerr != nil {
			return nil, aerr
		}
		m.MFAPhoneNumberVerified = in.SetPhoneNumberVerified && m.MFAPhoneNumber != ""
	}
	e.storeMemberPassword(m, &storedPassword{imported: imp})
	m.UpdatedAt = rfc3339(rq.now)
	res := e.memberResult(m)
	res["member_created"] = created
	return res, nil
}

// memberReset is an emailed B2B password reset token: single use, until
// expiresAt, bound to a PKCE challenge when one was given.
type memberReset struct {
	orgID, memberID string
	expiresAt       time.Time
	pkce            string
	used            bool
	// discovery: a discovery reset, for every member with email (orgID and
	// memberID empty); each kind of token is refused by the other's reset.
	discovery bool
	email     string
}

// POST /v1/b2b/passwords/email/reset/start: email the member a reset link
// (into the outbox, as every email).
func (e *Emulator) b2bPasswordResetStart(rq *request) (any, error) {
	var in struct {
		OrganizationID    string `json:"organization_id"`
		EmailAddress      string `json:"email_address"`
		RedirectURL       string `json:"reset_password_redirect_url"`
		ExpirationMinutes *int   `json:"reset_password_expiration_minutes"`
		CodeChallenge     string `json:"code_challenge"`
		LoginRedirectURL  string `json:"login_redirect_url"`
		Locale            string `json:"locale"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	ttl, ru, aerr := e.resetStart(in.ExpirationMinutes, in.Locale, in.RedirectURL)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.memberByEmail(org.OrganizationID, in.EmailAddress)
	if m == nil {
		return nil, memberNotFound()
	}
	tok := withToken(ru, "multi_tenant_passwords")
	e.st.memberResets[tok] = &memberReset{orgID: org.OrganizationID, memberID: m.MemberID, expiresAt: rq.now.Add(ttl), pkce: in.CodeChallenge}
	e.send(Message{
		Kind: KindEmail, Method: MethodMagicLink, Template: TemplateResetPassword, To: m.EmailAddress,
		OrganizationID: org.OrganizationID, MemberID: m.MemberID, Token: tok, URL: ru.String(),
		SentAt: rq.now, ExpiresAt: rq.now.Add(ttl),
	})
	return obj{"member_id": m.MemberID, "member_email_id": m.emailID, "member": e.st.render(m)}, nil
}

// POST /v1/b2b/passwords/email/reset: spend a reset token on a new password
// (which must pass the strength policy). The token proves the email, so the
// outcome is a login like any primary factor's: a session, or an
// intermediate session when MFA is due. The member's other sessions end.
func (e *Emulator) b2bPasswordResetByEmail(rq *request) (any, error) {
	var in struct {
		Token        string `json:"password_reset_token"`
		Password     string `json:"password"`
		CodeVerifier string `json:"code_verifier"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("password_reset_token is required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	rs, ok := e.st.memberResets[in.Token]
	if !ok || rs.discovery {
		return nil, linkNotFound()
	}
	if rs.used || !rq.now.Before(rs.expiresAt) {
		return nil, linkUnusable()
	}
	if rs.pkce != "" && !pkceMatches(in.CodeVerifier, rs.pkce) {
		return nil, badRequest("code_verifier does not match the code_challenge of the reset.").withType(errPKCEMismatch)
	}
	m := e.st.findMember(rs.orgID, rs.memberID, false)
	if m == nil {
		return nil, linkNotFound()
	}
	if aerr, err := e.pw.checkNew(in.Password, m.EmailAddress); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	var keep *memberSession
	if in.SessionToken != "" || in.SessionJWT != "" {
		ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		keep = ss
	}
	h, err := e.pw.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	rs.used = true
	e.storeMemberPassword(m, &storedPassword{hash: h})
	for _, ss := range e.st.sessions {
		if ss.memberID == m.MemberID && ss != keep {
			e.st.deleteSession(ss)
		}
	}
	res, err := e.completeAuth(rq, e.st.orgs[rs.orgID], m, passwordFactorFor(m, rq.now), in.sessionArgs)
	if err != nil {
		return nil, err
	}
	res["member_email_id"] = m.emailID
	return res, nil
}
