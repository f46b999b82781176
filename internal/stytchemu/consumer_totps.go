package stytchemu

import (
	"net/http"
	"strings"
	"time"
)

// Consumer TOTPs (/v1/totps...): an authenticator-app registration per user,
// checked for real with github.com/pquerna/otp (RFC 6238: HMAC-SHA1, 6
// digits, 30-second steps, one step of drift either way), and ten recovery
// codes that each work once.
//
// What the emulator does as Stytch does (docs/stytch.md keeps the list):
//   - Create returns the secret, a QR code (a PNG data URL of the otpauth
//     URL, drawn by the library) and the recovery codes. The registration is
//     pending: it is not among the user's totps until a first code from it
//     has been authenticated, and it is unusable after expiration_minutes
//     (5 to 1440, default 1440). A user with an active TOTP cannot create
//     another (active_totp_exists); a new Create replaces a pending one.
//   - Authenticate accepts a code of the current step or of the steps just
//     before and after, and each step at most once: a code of a step at or
//     before the last one accepted is totp_code_already_authenticated, so a
//     code seen on the wire cannot be replayed.
//   - Recover accepts each recovery code of the user's active TOTP once.
//   - recovery_codes lists the codes not used yet.
//
// Users.DeleteTOTP removes the registration from the user's totps, which is
// what ends it here: a registration whose factor is gone is no longer found.

const (
	totpDefaultExpiryMins = 1440
	totpMinExpiryMins     = 5
	errActiveTOTPExists   = "active_totp_exists"
	errInvalidExpiration  = "invalid_expiration"
)

// userTOTP is one authenticator-app registration (its secret and recovery
// codes are the shared otpSecret, totp_core.go).
type userTOTP struct {
	*otpSecret
	id        string
	userID    string
	verified  bool // a code from it has been authenticated
	expiresAt time.Time
}

// activeTOTP is the user's verified registration, if it is still among the
// user's factors. Caller holds e.mu.
func (e *Emulator) activeTOTP(u *user) *userTOTP {
	t := e.cs.totps[u.id]
	if t == nil || !t.verified || !u.hasFactor(FactorTOTP, t.id) {
		return nil
	}
	return t
}

// usableTOTP is the registration a code is checked against: the active one,
// or a pending one that has not expired.
func (e *Emulator) usableTOTP(u *user, now time.Time) *userTOTP {
	if t := e.activeTOTP(u); t != nil {
		return t
	}
	if t := e.cs.totps[u.id]; t != nil && !t.verified && now.Before(t.expiresAt) {
		return t
	}
	return nil
}

func (u *user) hasFactor(kind, id string) bool {
	for _, f := range u.factors {
		if f.kind == kind && strings.EqualFold(f.id, id) {
			return true
		}
	}
	return false
}

func totpNotFound() *apiError {
	return newErr(http.StatusNotFound, errTOTPNotFound, "TOTP could not be found.")
}

// POST /v1/totps.
func (e *Emulator) totpCreate(rq *request) (any, error) {
	var in struct {
		UserID            string `json:"user_id"`
		ExpirationMinutes *int   `json:"expiration_minutes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	mins := totpDefaultExpiryMins
	if in.ExpirationMinutes != nil {
		mins = *in.ExpirationMinutes
	}
	if mins < totpMinExpiryMins || mins > totpDefaultExpiryMins {
		return nil, newErr(http.StatusBadRequest, errInvalidExpiration, "expiration_minutes must be between %d and %d.", totpMinExpiryMins, totpDefaultExpiryMins)
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, userNotFound()
	}
	if e.activeTOTP(u) != nil {
		return nil, newErr(http.StatusBadRequest, errActiveTOTPExists, "Cannot create a new TOTP for the user: the user already has an active TOTP.")
	}
	sec, qr, err := newOTPSecret(accountName(u), "totp-recovery-code-test-")
	if err != nil {
		return nil, err
	}
	t := &userTOTP{
		otpSecret: sec, id: "totp-test-" + newUUID(), userID: u.id,
		expiresAt: rq.now.Add(time.Duration(mins) * time.Minute),
	}
	codes := t.unusedCodes()
	e.cs.totps[u.id] = t
	return obj{
		"totp_id": t.id, "secret": t.secret, "qr_code": qr, "recovery_codes": codes,
		"user_id": u.id, "user": u.wire(),
	}, nil
}

// accountName labels the registration in the authenticator app.
func accountName(u *user) string {
	switch {
	case len(u.emails) > 0:
		return u.emails[0].Email
	case len(u.phones) > 0:
		return u.phones[0].PhoneNumber
	}
	return u.id
}

// totpAuthArgs are the inputs Authenticate and Recover share.
type totpAuthArgs struct {
	UserID string `json:"user_id"`
	userSessionArgs
}

// totpUser resolves the user and the session inputs of Authenticate and
// Recover before any code is checked.
func (e *Emulator) totpUser(in totpAuthArgs, now time.Time) (*user, *userSession, *apiError) {
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, nil, aerr
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, nil, userNotFound()
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, now)
	if aerr != nil {
		return nil, nil, aerr
	}
	return u, ss, nil
}

// POST /v1/totps/authenticate.
func (e *Emulator) totpAuthenticate(rq *request) (any, error) {
	var in struct {
		totpAuthArgs
		TOTPCode string `json:"totp_code"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkTOTPShape(in.TOTPCode, "totp_code"); aerr != nil {
		return nil, aerr
	}
	u, ss, aerr := e.totpUser(in.totpAuthArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	t := e.usableTOTP(u, rq.now)
	if t == nil {
		return nil, totpNotFound()
	}
	if aerr := t.checkCode(in.TOTPCode, rq.now); aerr != nil {
		return nil, aerr
	}
	if !t.verified {
		t.verified = true
		u.factors = append(u.factors, seededFactor{kind: FactorTOTP, id: t.id, wire: obj{"totp_id": t.id, "verified": true}})
	}
	res, err := e.finishUserAuth(u, ss, totpFactor(t.id, rq.now), in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	res["totp_id"] = t.id
	return res, nil
}

// POST /v1/totps/recovery_codes.
func (e *Emulator) totpRecoveryCodes(rq *request) (any, error) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, userNotFound()
	}
	out := []obj{}
	if t := e.usableTOTP(u, rq.now); t != nil {
		out = append(out, obj{"totp_id": t.id, "verified": t.verified, "recovery_codes": t.unusedCodes()})
	}
	return obj{"user_id": u.id, "totps": out}, nil
}

// POST /v1/totps/recover.
func (e *Emulator) totpRecover(rq *request) (any, error) {
	var in struct {
		totpAuthArgs
		RecoveryCode string `json:"recovery_code"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.RecoveryCode == "" {
		return nil, badRequest("recovery_code is required.")
	}
	u, ss, aerr := e.totpUser(in.totpAuthArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	t := e.activeTOTP(u)
	if t == nil {
		return nil, totpNotFound()
	}
	hit, aerr := t.useRecoveryCode(in.RecoveryCode)
	if aerr != nil {
		return nil, aerr
	}
	f := recoveryFactor(hit, rq.now)
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	res["totp_id"] = t.id
	return res, nil
}
