package stytchemu

import (
	"errors"
	"net/http"
	"time"

	"github.com/authsvc/authsvc/internal/passwords"
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
	ok, rehash, err := e.pw.verify(m.pw, password)
	if err != nil && !errors.Is(err, passwords.ErrMalformedHash) {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, wrongCredentials()
	}
	if rehash != "" {
		m.pw.hash, m.pw.imported = rehash, nil
	}
	if !m.pw.requiresReset {
		c, err := e.pw.checker()
		if err != nil {
			return nil, nil, err
		}
		m.pw.requiresReset = c.Policy().BreachDetection && c.Breached(password)
	}
	if m.pw.requiresReset {
		return nil, nil, newErr(http.StatusBadRequest, errResetPassword, "This password must be reset before it can be used.")
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
