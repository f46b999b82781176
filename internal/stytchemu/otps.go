package stytchemu

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

const (
	minEmailOTPMins = 2
	maxEmailOTPMins = 15
)

func otpNotFound() *apiError {
	return newErr(http.StatusNotFound, errOTPCodeNotFound, "No one-time passcode was found for this recipient.")
}

func otpUnusable() *apiError {
	return newErr(http.StatusUnauthorized, errUnableToAuthOTPCode, "The one-time passcode is incorrect, expired or already used.")
}

func (e *Emulator) sendEmailCode(template, orgID, memberID, email string, ttl time.Duration, now time.Time) {
	if isSandboxEmail(e, email) {
		return
	}
	code := randDigits(6)
	e.st.emailOTPs = append(e.st.emailOTPs, &otpCode{
		code: code, template: template, orgID: orgID, memberID: memberID, email: email, expiresAt: now.Add(ttl),
	})
	e.send(Message{
		Kind: KindEmail, Method: MethodOTP, Template: template, To: email,
		OrganizationID: orgID, MemberID: memberID, Code: code, SentAt: now, ExpiresAt: now.Add(ttl),
	})
}

// takeEmailCode checks code against the codes sent to email (in orgID, or
// for discovery when discovery is set) and consumes the matching one.
func (e *Emulator) takeEmailCode(orgID, email, code string, discovery bool, now time.Time) *apiError {
	found := false
	for _, c := range e.st.emailOTPs {
		if (c.template == TemplateDiscovery) != discovery || c.orgID != orgID || !strings.EqualFold(c.email, email) {
			continue
		}
		found = true
		if subtle.ConstantTimeCompare([]byte(c.code), []byte(code)) != 1 {
			continue
		}
		if c.used || !now.Before(c.expiresAt) {
			return otpUnusable()
		}
		c.used = true
		return nil
	}
	if !found {
		return otpNotFound()
	}
	return otpUnusable()
}

func (e *Emulator) otpEmailLoginOrSignup(rq *request) (any, error) {
	var in struct {
		OrganizationID          string `json:"organization_id"`
		EmailAddress            string `json:"email_address"`
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
	loginTTL, aerr := expiryMinutes("login_expiration_minutes", in.LoginExpirationMinutes, defaultEmailOTPMins, minEmailOTPMins, maxEmailOTPMins)
	if aerr != nil {
		return nil, aerr
	}
	signupTTL, aerr := expiryMinutes("signup_expiration_minutes", in.SignupExpirationMinutes, defaultEmailOTPMins, minEmailOTPMins, maxEmailOTPMins)
	if aerr != nil {
		return nil, aerr
	}
	m, created, tmpl, aerr := e.loginOrSignupMember(org, in.EmailAddress, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	ttl := loginTTL
	if tmpl == TemplateSignup {
		ttl = signupTTL
	}
	e.sendEmailCode(tmpl, org.OrganizationID, m.MemberID, m.EmailAddress, ttl, rq.now)
	res := e.memberResult(m)
	res["member_created"] = created
	return res, nil
}

func (e *Emulator) otpEmailAuthenticate(rq *request) (any, error) {
	var in struct {
		OrganizationID string `json:"organization_id"`
		EmailAddress   string `json:"email_address"`
		Code           string `json:"code"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	if in.EmailAddress == "" || in.Code == "" {
		return nil, badRequest("email_address and code are required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	m := e.st.memberByEmail(org.OrganizationID, in.EmailAddress)
	updating := false
	if m == nil {
		// The code of an email update goes to the new address, not yet the
		// member's.
		m, updating = e.memberAwaitingEmail(org.OrganizationID, in.EmailAddress, rq.now), true
	}
	if m == nil {
		return nil, memberNotFound()
	}
	if aerr := e.takeEmailCode(org.OrganizationID, in.EmailAddress, in.Code, false, rq.now); aerr != nil {
		return nil, aerr
	}
	if updating && !e.finishEmailUpdate(m, in.EmailAddress, rq.now) {
		return nil, otpUnusable()
	}
	res, err := e.completeAuth(rq, org, m, emailFactorFor("email_otp", m, rq.now), in.sessionArgs)
	if err != nil {
		return nil, err
	}
	res["method_id"] = m.emailID
	return res, nil
}

func (e *Emulator) otpEmailDiscoverySend(rq *request) (any, error) {
	var in struct {
		EmailAddress               string `json:"email_address"`
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
	ttl, aerr := expiryMinutes("discovery_expiration_minutes", in.DiscoveryExpirationMinutes, defaultEmailOTPMins, minEmailOTPMins, maxEmailOTPMins)
	if aerr != nil {
		return nil, aerr
	}
	e.sendEmailCode(TemplateDiscovery, "", "", in.EmailAddress, ttl, rq.now)
	return obj{}, nil
}

func (e *Emulator) otpEmailDiscoveryAuthenticate(rq *request) (any, error) {
	var in struct {
		EmailAddress string `json:"email_address"`
		Code         string `json:"code"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" || in.Code == "" {
		return nil, badRequest("email_address and code are required.")
	}
	if aerr := e.takeEmailCode("", in.EmailAddress, in.Code, true, rq.now); aerr != nil {
		return nil, aerr
	}
	ist := e.newDiscoveryIST(in.EmailAddress, discoveryEmailFactor("email_otp", in.EmailAddress, rq.now), rq.now)
	return obj{
		"intermediate_session_token": ist.token,
		"email_address":              in.EmailAddress,
		"discovered_organizations":   e.discoveredOrganizations(in.EmailAddress, ist.factors),
	}, nil
}

func (e *Emulator) otpSMSSend(rq *request) (any, error) {
	var in struct {
		OrganizationID           string `json:"organization_id"`
		MemberID                 string `json:"member_id"`
		MFAPhoneNumber           string `json:"mfa_phone_number"`
		IntermediateSessionToken string `json:"intermediate_session_token"`
		SessionToken             string `json:"session_token"`
		SessionJWT               string `json:"session_jwt"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.findMember(org.OrganizationID, in.MemberID, false)
	if m == nil {
		return nil, memberNotFound()
	}
	if in.SessionToken != "" || in.SessionJWT != "" {
		if _, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	if in.IntermediateSessionToken != "" {
		if _, aerr := e.liveIST(in.IntermediateSessionToken, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	phone := m.MFAPhoneNumber
	switch {
	case phone == "" && in.MFAPhoneNumber == "":
		return nil, badRequest("The member has no MFA phone number; pass mfa_phone_number.").withType(errNoMFAPhone)
	case in.MFAPhoneNumber != "" && !validPhone(in.MFAPhoneNumber):
		return nil, newErr(http.StatusBadRequest, errInvalidPhoneNumber, "mfa_phone_number must be in E.164 format.")
	case phone != "" && in.MFAPhoneNumber != "" && in.MFAPhoneNumber != phone:
		return nil, badRequest("The member already has a different MFA phone number.").withType(errPhoneAlreadySet)
	case phone == "":
		phone = in.MFAPhoneNumber
	}
	e.sendSMSCode(m, phone, rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) otpSMSAuthenticate(rq *request) (any, error) {
	var in struct {
		OrganizationID   string `json:"organization_id"`
		MemberID         string `json:"member_id"`
		Code             string `json:"code"`
		SetMFAEnrollment string `json:"set_mfa_enrollment"`
		SetDefaultMFA    bool   `json:"set_default_mfa"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	if in.Code == "" {
		return nil, badRequest("code is required.")
	}
	if aerr := validEnrollment(in.SetMFAEnrollment); aerr != nil {
		return nil, aerr
	}
	m := e.st.findMember(org.OrganizationID, in.MemberID, false)
	if m == nil {
		return nil, memberNotFound()
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	// Resolve the session or IST before spending the code.
	tgt, aerr := e.resolveMFATarget(org, m, in.sessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	c := e.st.smsOTPs[m.MemberID]
	if c == nil {
		return nil, otpNotFound()
	}
	if c.used || !rq.now.Before(c.expiresAt) || subtle.ConstantTimeCompare([]byte(c.code), []byte(in.Code)) != 1 {
		return nil, otpUnusable()
	}
	c.used = true
	if m.MFAPhoneNumber != c.phone {
		m.MFAPhoneNumber = c.phone
	}
	m.MFAPhoneNumberVerified = true
	applyMFAChoices(m, in.SetMFAEnrollment, in.SetDefaultMFA, "sms_otp", rq.now)
	return e.completeMFA(rq, m, tgt, smsFactorFor(m, rq.now), in.sessionArgs)
}

func (e *Emulator) smsResult(m *member, ss *memberSession, now time.Time) (obj, error) {
	res, err := e.sessionResult(ss, now)
	if err != nil {
		return nil, err
	}
	res["member_id"] = m.MemberID
	res["member"] = e.st.render(m)
	res["organization"] = e.st.orgs[m.OrganizationID]
	return res, nil
}
