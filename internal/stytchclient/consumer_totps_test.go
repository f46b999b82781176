package stytchclient_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// TestConsumerTOTPEndpoints enrols a TOTP through the client, authenticates a code computed from
// the secret, and spends a recovery code, against a consumer-project emulator over real HTTP.
func TestConsumerTOTPEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	c := h.client
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "tess@example.com"})
	require.NoError(t, err)

	cr, err := c.ConsumerTOTPCreate(ctx, sc.ConsumerTOTPCreateParams{UserID: u.ID, ExpirationMinutes: 30})
	require.NoError(t, err)
	assert.NotEmpty(t, cr.TOTPID)
	assert.Contains(t, cr.QRCode, "data:image/png;base64,")
	require.Len(t, cr.RecoveryCodes, 10)
	assert.Empty(t, cr.User.TOTPs, "pending until a first code")

	code, err := totp.GenerateCode(cr.Secret, h.emu.Now())
	require.NoError(t, err)
	res, err := c.ConsumerTOTPAuthenticate(ctx, sc.ConsumerTOTPAuthenticateParams{UserID: u.ID, TOTPCode: code, SessionDurationMinutes: 30})
	require.NoError(t, err)
	assert.Equal(t, cr.TOTPID, res.TOTPID)
	require.NotNil(t, res.Session)
	require.Len(t, res.Session.AuthenticationFactors, 1)
	f := res.Session.AuthenticationFactors[0]
	assert.Equal(t, "totp", f.Type)
	assert.Equal(t, "authenticator_app", f.DeliveryMethod)
	require.NotNil(t, f.AuthenticatorAppFactor)
	assert.Equal(t, cr.TOTPID, f.AuthenticatorAppFactor.TOTPID)
	require.Len(t, res.User.TOTPs, 1)
	assert.True(t, res.User.TOTPs[0].Verified)

	_, err = c.ConsumerTOTPAuthenticate(ctx, sc.ConsumerTOTPAuthenticateParams{UserID: u.ID, TOTPCode: code})
	requireStytchError(t, err, http.StatusUnauthorized, "totp_code_already_authenticated", codes.Unauthenticated)

	rc, err := c.ConsumerTOTPRecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, rc.TOTPs, 1)
	assert.Equal(t, cr.RecoveryCodes, rc.TOTPs[0].RecoveryCodes)

	rec, err := c.ConsumerTOTPRecover(ctx, sc.ConsumerTOTPRecoverParams{UserID: u.ID, RecoveryCode: cr.RecoveryCodes[0], SessionToken: res.SessionToken})
	require.NoError(t, err)
	assert.Equal(t, res.SessionToken, rec.SessionToken)
	_, err = c.ConsumerTOTPRecover(ctx, sc.ConsumerTOTPRecoverParams{UserID: u.ID, RecoveryCode: cr.RecoveryCodes[0]})
	requireStytchError(t, err, http.StatusUnauthorized, "unable_to_authenticate_recovery_code", codes.Unauthenticated)

	_, err = c.ConsumerTOTPCreate(ctx, sc.ConsumerTOTPCreateParams{UserID: u.ID})
	requireStytchError(t, err, http.StatusBadRequest, "active_totp_exists", codes.InvalidArgument)

	h.emu.Advance(time.Minute)
	wrong := "000000"
	if now, _ := totp.GenerateCode(cr.Secret, h.emu.Now()); now == wrong {
		wrong = "000001"
	}
	_, err = c.ConsumerTOTPAuthenticate(ctx, sc.ConsumerTOTPAuthenticateParams{UserID: u.ID, TOTPCode: wrong})
	requireStytchError(t, err, http.StatusUnauthorized, "unable_to_authenticate_totp", codes.Unauthenticated)
}
