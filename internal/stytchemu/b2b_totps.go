package stytchemu

import (
	"encoding/base32"
	"net/http"
	"slices"
	"strings"
	"time"
)

// B2B TOTPs (/v1/b2b/totp...) and recovery codes (/v1/b2b/recovery_codes...):
// a member's authenticator app as a second factor. The secret, the code
// check and the recovery codes are the ones consumer TOTPs use
// (totp_core.go); what is B2B is around them (docs/stytch.md keeps the list):
//   - A registration belongs to a member. Create makes a pending one
//     (expiration_minutes 5 to 1440, default 60) and replaces a pending one;
//     a member whose registration is active cannot create another
//     (active_totp_exists). When the member already has an MFA factor (an
//     active TOTP or a verified MFA phone), Create needs an intermediate
//     session or session of the member that holds an MFA factor, so that a
//     first factor alone cannot replace the second.
//   - TOTP authenticate and recovery-code recover are second factors only,
//     as B2B SMS OTP is: they complete an intermediate session (consuming
//     it) or step up a session of the same member, never start a login from
//     nothing. The first accepted code makes the registration active (the
//     member's totp_registration_id) and, when the member had no verified
//     MFA phone, TOTP its default MFA method.
//   - Recovery codes are the active registration's: get lists the unused
//     ones, rotate replaces them all, recover spends one.
//   - Migrate imports an existing secret as an active registration, with the
//     given recovery codes or ten new ones.

const (
	b2bTOTPDefaultExpiryMins = 60
	errInvalidTOTPSecret     = "invalid_totp_secret" //nolint:gosec // G101: an error type name, not a credential
)

// memberTOTP is one member's authenticator-app registration.
type memberTOTP struct {
	*otpSecret
	id        string
	memberID  string
	verified  bool // a code from it has been authenticated (or it was migrated)
	expiresAt time.Time
}

// activeMemberTOTP is m's verified registration, if it is still m's. Caller
// holds e.mu.
func (e *Emulator) activeMemberTOTP(m *member) *memberTOTP {
	t := e.st.totps[m.MemberID]
	if t == nil || !t.verified || m.TOTPRegistrationID != t.id {
		return nil
	}
	return t
}

// usableMemberTOTP is the registration a code is checked against: the
// active one, or a pending one that has not expired.
func (e *Emulator) usableMemberTOTP(m *member, now time.Time) *memberTOTP {
	if t := e.activeMemberTOTP(m); t != nil {
		return t
	}
	if t := e.st.totps[m.MemberID]; t != nil && !t.verified && now.Before(t.expiresAt) {
		return t
	}
	return nil
}

// hasMFAFactor reports whether m has a second factor set up.
func (e *Emulator) hasMFAFactor(m *member) bool {
	return m.MFAPhoneNumberVerified || e.activeMemberTOTP(m) != nil
}

// mfaTarget is what a second factor completes: an intermediate session
// (MFA) or a session of the same member (step-up). Exactly one is set.
type mfaTarget struct {
	ss  *memberSession
	ist *intermediateSession
}

func (t mfaTarget) factors() []factor {
	if t.ss != nil {
		return t.ss.factors
	}
	return t.ist.factors
}

// resolveMFATarget resolves the session or intermediate session a second
// factor for m in org completes, before any code is spent.
func (e *Emulator) resolveMFATarget(org *organization, m *member, args sessionArgs, now time.Time) (mfaTarget, *apiError) {
	switch {
	case args.SessionToken != "" || args.SessionJWT != "":
		ss, aerr := e.resolveSession(args.SessionToken, args.SessionJWT, now)
		if aerr != nil {
			return mfaTarget{}, aerr
		}
		if ss.memberID != m.MemberID {
			return mfaTarget{}, newErr(http.StatusBadRequest, errBadRequest, "The session belongs to a different member.")
		}
		return mfaTarget{ss: ss}, nil
	case args.IntermediateSessionToken != "":
		ist, aerr := e.liveIST(args.IntermediateSessionToken, now)
		if aerr != nil {
			return mfaTarget{}, aerr
		}
		if ist.orgID != "" && ist.orgID != org.OrganizationID || !strings.EqualFold(ist.email, m.EmailAddress) {
			return mfaTarget{}, badRequest("The intermediate session belongs to a different member or organization.")
		}
		return mfaTarget{ist: ist}, nil
	default:
		// B2B second factors never start a login on their own.
		return mfaTarget{}, badRequest("One of intermediate_session_token, session_token or session_jwt is required.")
	}
}

// completeMFA adds f to the target: a session is extended (step-up), an
// intermediate session is consumed into a new session holding its factors
// and f.
func (e *Emulator) completeMFA(rq *request, m *member, tgt mfaTarget, f factor, args sessionArgs) (obj, error) {
	d, aerr := sessionDuration(args.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	if ss := tgt.ss; ss != nil {
		ss.factors = addFactors(ss.factors, f)
		ss.lastAccessedAt = rq.now
		if args.SessionDurationMinutes != nil {
			ss.expiresAt = rq.now.Add(d)
		}
		if ss.customClaims, aerr = mergeClaims(ss.customClaims, args.SessionCustomClaims); aerr != nil {
			return nil, aerr
		}
		return e.smsResult(m, ss, rq.now)
	}
	cc, aerr := mergeClaims(nil, args.SessionCustomClaims)
	if aerr != nil {
		return nil, aerr
	}
	e.activate(m, rq.now)
	delete(e.st.ists, tgt.ist.token)
	ss := e.newSession(m, addFactors(tgt.ist.factors, f), d, cc, rq.now)
	return e.smsResult(m, ss, rq.now)
}

// applyMFAChoices applies set_mfa_enrollment and set_default_mfa after a
// second factor of kind method ("sms_otp" or "totp") succeeded.
func applyMFAChoices(m *member, enrollment string, setDefault bool, method string, now time.Time) {
	switch enrollment {
	case "enroll":
		m.MFAEnrolled = true
	case "unenroll":
		m.MFAEnrolled = false
	}
	if setDefault {
		m.DefaultMFAMethod = method
	}
	m.UpdatedAt = rfc3339(now)
}

func validEnrollment(v string) *apiError {
	if v != "" && v != "enroll" && v != "unenroll" {
		return badRequest("set_mfa_enrollment must be enroll or unenroll.")
	}
	return nil
}

// memberInOrg resolves organization_id and member_id of a request body.
func (e *Emulator) memberInOrg(orgRef, memberRef string) (*organization, *member, *apiError) {
	org, aerr := e.orgByField(orgRef)
	if aerr != nil {
		return nil, nil, aerr
	}
	m := e.st.findMember(org.OrganizationID, memberRef, false)
	if m == nil {
		return nil, nil, memberNotFound()
	}
	return org, m, nil
}

// POST /v1/b2b/totp.
func (e *Emulator) b2bTOTPCreate(rq *request) (any, error) {
	var in struct {
		OrganizationID    string `json:"organization_id"`
		MemberID          string `json:"member_id"`
		ExpirationMinutes *int   `json:"expiration_minutes"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	mins := b2bTOTPDefaultExpiryMins
	if in.ExpirationMinutes != nil {
		mins = *in.ExpirationMinutes
	}
	if mins < totpMinExpiryMins || mins > totpDefaultExpiryMins {
		return nil, newErr(http.StatusBadRequest, errInvalidExpiration, "expiration_minutes must be between %d and %d.", totpMinExpiryMins, totpDefaultExpiryMins)
	}
	org, m, aerr := e.memberInOrg(in.OrganizationID, in.MemberID)
	if aerr != nil {
		return nil, aerr
	}
	if e.activeMemberTOTP(m) != nil {
		return nil, newErr(http.StatusBadRequest, errActiveTOTPExists, "The member already has an active TOTP registration; delete it first.")
	}
	hasCredential := in.SessionToken != "" || in.SessionJWT != "" || in.IntermediateSessionToken != ""
	if hasCredential || e.hasMFAFactor(m) {
		tgt, aerr := e.resolveMFATarget(org, m, in.sessionArgs, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		if e.hasMFAFactor(m) && !slices.ContainsFunc(tgt.factors(), factor.isMFA) {
			return nil, badRequest("The member already has an MFA factor: pass a session or intermediate session that holds it.")
		}
	}
	sec, qr, err := newOTPSecret(m.EmailAddress, "member-totp-recovery-code-test-")
	if err != nil {
		return nil, err
	}
	t := &memberTOTP{
		otpSecret: sec, id: "member-totp-test-" + newUUID(), memberID: m.MemberID,
		expiresAt: rq.now.Add(time.Duration(mins) * time.Minute),
	}
	e.st.totps[m.MemberID] = t
	res := e.memberResult(m)
	res["totp_registration_id"] = t.id
	res["secret"] = t.secret
	res["qr_code"] = qr
	res["recovery_codes"] = t.unusedCodes()
	return res, nil
}

// POST /v1/b2b/totp/authenticate.
func (e *Emulator) b2bTOTPAuthenticate(rq *request) (any, error) {
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
	if aerr := checkTOTPShape(in.Code, "code"); aerr != nil {
		return nil, aerr
	}
	if aerr := validEnrollment(in.SetMFAEnrollment); aerr != nil {
		return nil, aerr
	}
	org, m, aerr := e.memberInOrg(in.OrganizationID, in.MemberID)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	tgt, aerr := e.resolveMFATarget(org, m, in.sessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	t := e.usableMemberTOTP(m, rq.now)
	if t == nil {
		return nil, totpNotFound()
	}
	if aerr := t.checkCode(in.Code, rq.now); aerr != nil {
		return nil, aerr
	}
	if !t.verified {
		t.verified = true
		m.TOTPRegistrationID = t.id
	}
	applyMFAChoices(m, in.SetMFAEnrollment, in.SetDefaultMFA || !m.MFAPhoneNumberVerified, "totp", rq.now)
	return e.completeMFA(rq, m, tgt, totpFactor(t.id, rq.now), in.sessionArgs)
}

// POST /v1/b2b/totp/migrate.
func (e *Emulator) b2bTOTPMigrate(rq *request) (any, error) {
	var in struct {
		OrganizationID string   `json:"organization_id"`
		MemberID       string   `json:"member_id"`
		Secret         string   `json:"secret"`
		RecoveryCodes  []string `json:"recovery_codes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	secret := strings.ToUpper(strings.ReplaceAll(in.Secret, " ", ""))
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "=")); err != nil || secret == "" {
		return nil, newErr(http.StatusBadRequest, errInvalidTOTPSecret, "secret must be a base32 TOTP secret.")
	}
	_, m, aerr := e.memberInOrg(in.OrganizationID, in.MemberID)
	if aerr != nil {
		return nil, aerr
	}
	if e.activeMemberTOTP(m) != nil {
		return nil, newErr(http.StatusBadRequest, errActiveTOTPExists, "The member already has an active TOTP registration; delete it first.")
	}
	t := &memberTOTP{
		otpSecret: &otpSecret{secret: secret}, id: "member-totp-test-" + newUUID(), memberID: m.MemberID, verified: true,
	}
	for _, c := range in.RecoveryCodes {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
			t.recovery = append(t.recovery, &recoveryCode{id: "member-totp-recovery-code-test-" + newUUID(), code: c})
		}
	}
	if len(t.recovery) == 0 {
		t.recovery = newRecoveryCodes("member-totp-recovery-code-test-")
	}
	e.st.totps[m.MemberID] = t
	m.TOTPRegistrationID = t.id
	m.UpdatedAt = rfc3339(rq.now)
	res := e.memberResult(m)
	res["totp_registration_id"] = t.id
	res["recovery_codes"] = t.unusedCodes()
	return res, nil
}

// GET /v1/b2b/recovery_codes/{organization_id}/{member_id}.
func (e *Emulator) b2bRecoveryCodesGet(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	res := e.memberResult(m)
	res["recovery_codes"] = []string{}
	if t := e.activeMemberTOTP(m); t != nil {
		res["recovery_codes"] = t.unusedCodes()
	}
	return res, nil
}

// POST /v1/b2b/recovery_codes/rotate.
func (e *Emulator) b2bRecoveryCodesRotate(rq *request) (any, error) {
	var in struct {
		OrganizationID string `json:"organization_id"`
		MemberID       string `json:"member_id"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	_, m, aerr := e.memberInOrg(in.OrganizationID, in.MemberID)
	if aerr != nil {
		return nil, aerr
	}
	t := e.activeMemberTOTP(m)
	if t == nil {
		return nil, totpNotFound()
	}
	t.recovery = newRecoveryCodes("member-totp-recovery-code-test-")
	res := e.memberResult(m)
	res["recovery_codes"] = t.unusedCodes()
	return res, nil
}

// POST /v1/b2b/recovery_codes/recover.
func (e *Emulator) b2bRecoveryCodesRecover(rq *request) (any, error) {
	var in struct {
		OrganizationID string `json:"organization_id"`
		MemberID       string `json:"member_id"`
		RecoveryCode   string `json:"recovery_code"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.RecoveryCode == "" {
		return nil, badRequest("recovery_code is required.")
	}
	org, m, aerr := e.memberInOrg(in.OrganizationID, in.MemberID)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	tgt, aerr := e.resolveMFATarget(org, m, in.sessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	t := e.activeMemberTOTP(m)
	if t == nil {
		return nil, totpNotFound()
	}
	rc, aerr := t.useRecoveryCode(in.RecoveryCode)
	if aerr != nil {
		return nil, aerr
	}
	res, err := e.completeMFA(rq, m, tgt, recoveryFactor(rc, rq.now), in.sessionArgs)
	if err != nil {
		return nil, err
	}
	res["recovery_codes_remaining"] = len(t.unusedCodes())
	return res, nil
}
