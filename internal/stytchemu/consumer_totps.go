package stytchemu

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
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
	totpPeriod             = 30
	totpDefaultExpiryMins  = 1440
	totpMinExpiryMins      = 5
	recoveryCodeCount      = 10
	totpIssuer             = "Stytch emulator"
	totpQRSize             = 200
	errActiveTOTPExists    = "active_totp_exists"
	errInvalidTOTPCode     = "invalid_totp_code"
	errUnableToAuthTOTP    = "unable_to_authenticate_totp"
	errTOTPAlreadyUsed     = "totp_code_already_authenticated"
	errUnableToAuthRecover = "unable_to_authenticate_recovery_code"
	errInvalidExpiration   = "invalid_expiration"
)

// totpCodeShape is what a TOTP code looks like; anything else is refused as
// malformed before the secret is used.
var totpCodeShape = regexp.MustCompile(`^[0-9]{6}$`)

// userTOTP is one authenticator-app registration.
type userTOTP struct {
	id        string
	userID    string
	secret    string // base32, as handed to the authenticator app
	verified  bool   // a code from it has been authenticated
	expiresAt time.Time
	lastStep  int64 // the last step a code was accepted for; 0: none yet
	recovery  []*recoveryCode
}

type recoveryCode struct {
	id   string
	code string
	used bool
}

type authenticatorAppFactor struct {
	TOTPID string `json:"totp_id"`
}

type recoveryCodeFactor struct {
	TOTPRecoveryCodeID string `json:"totp_recovery_code_id"`
}

// totpOpts are the only parameters the emulator's registrations use.
func totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
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
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: totpIssuer, AccountName: accountName(u), Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("generate TOTP key: %w", err)
	}
	qr, err := qrDataURL(key)
	if err != nil {
		return nil, err
	}
	t := &userTOTP{
		id: "totp-test-" + newUUID(), userID: u.id, secret: key.Secret(),
		expiresAt: rq.now.Add(time.Duration(mins) * time.Minute),
	}
	codes := make([]string, 0, recoveryCodeCount)
	for range recoveryCodeCount {
		rc := &recoveryCode{id: "totp-recovery-code-test-" + newUUID(), code: newRecoveryCode()}
		t.recovery = append(t.recovery, rc)
		codes = append(codes, rc.code)
	}
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

// qrDataURL draws the key's otpauth URL as a QR code (the library's own
// renderer) and returns it as a PNG data URL.
func qrDataURL(key *otp.Key) (string, error) {
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return "", fmt.Errorf("draw TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode TOTP QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// newRecoveryCode returns a code like Stytch's: three groups of four
// lower-case letters and digits (62 bits of entropy).
func newRecoveryCode() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for i := range 12 {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			n = big.NewInt(0)
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

// matchStep finds the step (current, previous or next) whose code is code.
// Each candidate is checked by the library with no skew of its own, so that
// the step that matched is known and can be refused a second time.
func matchStep(code, secret string, now time.Time) (int64, bool) {
	cur := now.Unix() / totpPeriod
	for _, step := range []int64{cur, cur - 1, cur + 1} {
		ok, err := totp.ValidateCustom(code, secret, time.Unix(step*totpPeriod, 0).UTC(), totpOpts())
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
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
	if !totpCodeShape.MatchString(in.TOTPCode) {
		return nil, newErr(http.StatusBadRequest, errInvalidTOTPCode, "totp_code must be 6 digits.")
	}
	u, ss, aerr := e.totpUser(in.totpAuthArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	t := e.usableTOTP(u, rq.now)
	if t == nil {
		return nil, totpNotFound()
	}
	step, ok := matchStep(in.TOTPCode, t.secret, rq.now)
	if !ok {
		return nil, newErr(http.StatusUnauthorized, errUnableToAuthTOTP, "The TOTP code could not be authenticated.")
	}
	if step <= t.lastStep {
		return nil, newErr(http.StatusUnauthorized, errTOTPAlreadyUsed, "This TOTP code has already been authenticated; use the next code.")
	}
	t.lastStep = step
	if !t.verified {
		t.verified = true
		u.factors = append(u.factors, seededFactor{kind: FactorTOTP, id: t.id, wire: obj{"totp_id": t.id, "verified": true}})
	}
	ts := rfc3339(rq.now)
	f := factor{
		Type: "totp", DeliveryMethod: "authenticator_app", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		AuthenticatorAppFactor: &authenticatorAppFactor{TOTPID: t.id},
	}
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
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
		codes := []string{}
		for _, rc := range t.recovery {
			if !rc.used {
				codes = append(codes, rc.code)
			}
		}
		out = append(out, obj{"totp_id": t.id, "verified": t.verified, "recovery_codes": codes})
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
	code := strings.ToLower(strings.TrimSpace(in.RecoveryCode))
	var hit *recoveryCode
	for _, rc := range t.recovery {
		// Every code is compared, in constant time, so the time taken does
		// not tell how close a guess came or which code it was.
		if subtle.ConstantTimeCompare([]byte(rc.code), []byte(code)) == 1 && !rc.used {
			hit = rc
		}
	}
	if hit == nil {
		return nil, newErr(http.StatusUnauthorized, errUnableToAuthRecover, "The recovery code could not be authenticated.")
	}
	hit.used = true
	ts := rfc3339(rq.now)
	f := factor{
		Type: "recovery_codes", DeliveryMethod: "recovery_code", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		RecoveryCodeFactor: &recoveryCodeFactor{TOTPRecoveryCodeID: hit.id},
	}
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	res["totp_id"] = t.id
	return res, nil
}
