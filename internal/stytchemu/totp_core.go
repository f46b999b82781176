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

// The authenticator-app logic that consumer TOTPs (consumer_totps.go) and B2B
// TOTPs with their recovery codes (b2b_totps.go) share: one secret checked
// for real with github.com/pquerna/otp (RFC 6238: HMAC-SHA1, 6 digits,
// 30-second steps, one step of drift either way, each step accepted once),
// and a set of recovery codes that each work once. Only what is around it
// (who owns the registration, how a session is made) differs by project.

const (
	totpPeriod             = 30
	recoveryCodeCount      = 10
	totpIssuer             = "Stytch emulator"
	totpQRSize             = 200
	errInvalidTOTPCode     = "invalid_totp_code"
	errUnableToAuthTOTP    = "unable_to_authenticate_totp"
	errTOTPAlreadyUsed     = "totp_code_already_authenticated"
	errUnableToAuthRecover = "unable_to_authenticate_recovery_code"
)

// totpCodeShape is what a TOTP code looks like; anything else is refused as
// malformed before the secret is used.
var totpCodeShape = regexp.MustCompile(`^[0-9]{6}$`)

// otpSecret is one authenticator-app secret with its recovery codes.
type otpSecret struct {
	secret   string // base32, as handed to the authenticator app
	lastStep int64  // the last step a code was accepted for; 0: none yet
	recovery []*recoveryCode
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

// newOTPSecret generates a secret labelled account in the authenticator app,
// and ten recovery codes whose IDs start with idPrefix. It returns the
// secret's QR code too (a PNG data URL of its otpauth URL).
func newOTPSecret(account, idPrefix string) (*otpSecret, string, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: totpIssuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, "", fmt.Errorf("generate TOTP key: %w", err)
	}
	qr, err := qrDataURL(key)
	if err != nil {
		return nil, "", err
	}
	return &otpSecret{secret: key.Secret(), recovery: newRecoveryCodes(idPrefix)}, qr, nil
}

// newRecoveryCodes returns a fresh set of recovery codes.
func newRecoveryCodes(idPrefix string) []*recoveryCode {
	out := make([]*recoveryCode, 0, recoveryCodeCount)
	for range recoveryCodeCount {
		out = append(out, &recoveryCode{id: idPrefix + newUUID(), code: newRecoveryCode()})
	}
	return out
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

// checkTOTPShape refuses a code that is not 6 digits.
func checkTOTPShape(code, field string) *apiError {
	if !totpCodeShape.MatchString(code) {
		return newErr(http.StatusBadRequest, errInvalidTOTPCode, "%s must be 6 digits.", field)
	}
	return nil
}

// checkCode accepts code when it is the code of a step near now that has not
// been accepted before, and remembers that step: a code seen on the wire
// cannot be replayed.
func (s *otpSecret) checkCode(code string, now time.Time) *apiError {
	step, ok := matchStep(code, s.secret, now)
	if !ok {
		return newErr(http.StatusUnauthorized, errUnableToAuthTOTP, "The TOTP code could not be authenticated.")
	}
	if step <= s.lastStep {
		return newErr(http.StatusUnauthorized, errTOTPAlreadyUsed, "This TOTP code has already been authenticated; use the next code.")
	}
	s.lastStep = step
	return nil
}

// useRecoveryCode spends the unused recovery code equal to code (case and
// surrounding space ignored).
func (s *otpSecret) useRecoveryCode(code string) (*recoveryCode, *apiError) {
	code = strings.ToLower(strings.TrimSpace(code))
	var hit *recoveryCode
	for _, rc := range s.recovery {
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
	return hit, nil
}

// unusedCodes lists the recovery codes not used yet.
func (s *otpSecret) unusedCodes() []string {
	codes := []string{}
	for _, rc := range s.recovery {
		if !rc.used {
			codes = append(codes, rc.code)
		}
	}
	return codes
}

// totpFactor and recoveryFactor are the session factors of an authenticated
// code and a spent recovery code.
func totpFactor(totpID string, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "totp", DeliveryMethod: "authenticator_app", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		AuthenticatorAppFactor: &authenticatorAppFactor{TOTPID: totpID},
	}
}

func recoveryFactor(rc *recoveryCode, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "recovery_codes", DeliveryMethod: "recovery_code", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		RecoveryCodeFactor: &recoveryCodeFactor{TOTPRecoveryCodeID: rc.id},
	}
}
