package stytchclient_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Passwords of these tests: both score 4 under zxcvbn and are not on the emulator's breached list.
const (
	pwFirst  = "tangerine Orbit 42 velvet"
	pwSecond = "copper lantern Drifts 97 north"
)

// TestConsumerPasswordEndpoints walks every consumer password method through a consumer-project
// emulator over real HTTP. Steps depend on earlier ones, so a failure stops the walk.
func TestConsumerPasswordEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	c := h.client
	const email = "grace@example.com"
	var userID string

	t.Run("ConsumerPasswordStrengthCheck", func(t *testing.T) {
		res, err := c.ConsumerPasswordStrengthCheck(ctx, sc.ConsumerPasswordStrengthCheckParams{Password: pwFirst, Email: email})
		require.NoError(t, err)
		assert.True(t, res.ValidPassword)
		assert.GreaterOrEqual(t, res.Score, int32(3))
		assert.Equal(t, "zxcvbn", res.StrengthPolicy)
		assert.True(t, res.BreachDetectionOnCreate)
		require.NotNil(t, res.Feedback)
		assert.Nil(t, res.Feedback.LUDSRequirements)

		res, err = c.ConsumerPasswordStrengthCheck(ctx, sc.ConsumerPasswordStrengthCheckParams{Password: "password1"})
		require.NoError(t, err)
		assert.False(t, res.ValidPassword)
		assert.True(t, res.BreachedPassword)
	})

	t.Run("ConsumerPasswordCreate", func(t *testing.T) {
		_, err := c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: email, Password: "bananabread"})
		requireStytchError(t, err, http.StatusBadRequest, "weak_password", codes.InvalidArgument)
		_, err = c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: email, Password: "$3cr3t2025!"})
		requireStytchError(t, err, http.StatusBadRequest, "breached_password", codes.InvalidArgument)

		res, err := c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{
			Email: email, Password: pwFirst, SessionDurationMinutes: 60, Name: &sc.UserName{FirstName: "Grace"},
		})
		require.NoError(t, err)
		userID = res.UserID
		assert.NotEmpty(t, res.EmailID)
		assert.NotEmpty(t, res.SessionToken)
		assert.NotEmpty(t, res.SessionJWT)
		require.NotNil(t, res.Session)
		require.Len(t, res.Session.AuthenticationFactors, 1)
		assert.Equal(t, "password", res.Session.AuthenticationFactors[0].Type)
		require.NotNil(t, res.User.Password)
		assert.NotEmpty(t, res.User.Password.PasswordID)
		assert.False(t, res.User.Password.RequiresReset)

		_, err = c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: email, Password: pwSecond})
		requireStytchError(t, err, http.StatusBadRequest, "duplicate_email", codes.InvalidArgument)
	})

	t.Run("ConsumerPasswordAuthenticate", func(t *testing.T) {
		res, err := c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: email, Password: pwFirst})
		require.NoError(t, err)
		assert.Equal(t, userID, res.UserID)
		assert.Empty(t, res.SessionToken, "no session was asked for")
		assert.Nil(t, res.Session)

		_, err = c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: email, Password: pwSecond})
		requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", codes.Unauthenticated)
		_, err = c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: "nobody@example.com", Password: pwFirst})
		requireStytchError(t, err, http.StatusNotFound, "email_not_found", codes.NotFound)
	})

	t.Run("ConsumerPasswordMigrate", func(t *testing.T) {
		hash, err := bcrypt.GenerateFromPassword([]byte(pwSecond), bcrypt.MinCost)
		require.NoError(t, err)
		res, err := c.ConsumerPasswordMigrate(ctx, sc.ConsumerPasswordMigrateParams{
			Email: "legacy@example.com", Hash: string(hash), HashType: "bcrypt", SetEmailVerified: true,
		})
		require.NoError(t, err)
		assert.True(t, res.UserCreated)
		require.NotNil(t, res.User.Password)
		require.Len(t, res.User.Emails, 1)
		assert.True(t, res.User.Emails[0].Verified)

		auth, err := c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: "legacy@example.com", Password: pwSecond})
		require.NoError(t, err)
		assert.Equal(t, res.UserID, auth.UserID)

		_, err = c.ConsumerPasswordMigrate(ctx, sc.ConsumerPasswordMigrateParams{Email: "x@example.com", Hash: "AAAA", HashType: "pbkdf_2"})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	var session sc.ConsumerSessionResult
	t.Run("ConsumerPasswordEmailReset", func(t *testing.T) {
		verifier, challenge := pkce("a-verifier-that-is-long-enough-for-pkce-0123456789")
		start, err := c.ConsumerPasswordEmailResetStart(ctx, sc.ConsumerPasswordEmailResetStartParams{Email: email, CodeChallenge: challenge})
		require.NoError(t, err)
		assert.Equal(t, userID, start.UserID)
		assert.NotEmpty(t, start.EmailID)
		msg, ok := h.emu.LastMessage(email)
		require.True(t, ok)
		assert.Equal(t, stytchemu.TemplateResetPassword, msg.Template)

		_, err = c.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{Token: msg.Token, Password: pwSecond, CodeVerifier: "wrong"})
		requireStytchError(t, err, http.StatusBadRequest, "pkce_mismatch", codes.InvalidArgument)
		res, err := c.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{
			Token: msg.Token, Password: pwSecond, CodeVerifier: verifier, SessionDurationMinutes: 60,
		})
		require.NoError(t, err)
		assert.Equal(t, userID, res.UserID)
		require.NotNil(t, res.Session)
		session = *res

		_, err = c.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{Token: msg.Token, Password: pwFirst, CodeVerifier: verifier})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_magic_link", codes.Unauthenticated)
		_, err = c.ConsumerPasswordEmailResetStart(ctx, sc.ConsumerPasswordEmailResetStartParams{Email: "nobody@example.com"})
		requireStytchError(t, err, http.StatusNotFound, "email_not_found", codes.NotFound)
	})

	t.Run("ConsumerPasswordSessionReset", func(t *testing.T) {
		res, err := c.ConsumerPasswordSessionReset(ctx, sc.ConsumerPasswordSessionResetParams{SessionJWT: session.SessionJWT, Password: pwFirst})
		require.NoError(t, err)
		assert.Equal(t, userID, res.UserID)
		require.NotNil(t, res.Session)
		assert.Equal(t, session.Session.SessionID, res.Session.SessionID)

		h.emu.Advance(6 * time.Minute)
		_, err = c.ConsumerPasswordSessionReset(ctx, sc.ConsumerPasswordSessionResetParams{SessionToken: session.SessionToken, Password: pwSecond})
		requireStytchError(t, err, http.StatusBadRequest, "session_too_old_to_reset_password", codes.InvalidArgument)
	})

	t.Run("ConsumerPasswordExistingPasswordReset", func(t *testing.T) {
		_, err := c.ConsumerPasswordExistingPasswordReset(ctx, sc.ConsumerPasswordExistingPasswordResetParams{
			Email: email, ExistingPassword: pwSecond, NewPassword: pwSecond,
		})
		requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", codes.Unauthenticated)
		res, err := c.ConsumerPasswordExistingPasswordReset(ctx, sc.ConsumerPasswordExistingPasswordResetParams{
			Email: email, ExistingPassword: pwFirst, NewPassword: pwSecond, SessionDurationMinutes: 30,
		})
		require.NoError(t, err)
		assert.NotEmpty(t, res.SessionToken)
		// The reset ended the session of the email reset.
		_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: session.SessionToken})
		requireStytchError(t, err, http.StatusNotFound, "session_not_found", codes.NotFound)
	})

	t.Run("UserDeletePassword sees the password", func(t *testing.T) {
		u, err := c.UserGet(ctx, userID)
		require.NoError(t, err)
		require.NotNil(t, u.Password)
		res, err := c.UserDeletePassword(ctx, u.Password.PasswordID)
		require.NoError(t, err)
		assert.Nil(t, res.User.Password)
		_, err = c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: email, Password: pwSecond})
		requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", codes.Unauthenticated)
	})
}

// A failing password call names neither the password, the email address nor a reset token: not in
// the error text, not in the status callers get, not in any span.
func TestConsumerPasswordSecretsStayOutOfErrorsAndSpans(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	const email = "secretive@example.com"
	_, err := h.client.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: email, Password: pwFirst})
	require.NoError(t, err)

	_, err = h.client.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: email, Password: pwSecond})
	requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", codes.Unauthenticated)
	const token = "reset-token-that-must-not-leak"
	_, resetErr := h.client.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{Token: token, Password: pwSecond})
	requireStytchError(t, resetErr, http.StatusNotFound, "magic_link_not_found", codes.NotFound)

	for _, e := range []error{err, resetErr} {
		for _, text := range []string{e.Error(), status.Convert(e).Message()} {
			for _, secret := range []string{pwFirst, pwSecond, email, token} {
				assert.NotContains(t, text, secret)
			}
		}
	}
	assert.Equal(t, "the email address or password is incorrect", status.Convert(err).Message())

	spans := h.spans.GetSpans()
	require.NotEmpty(t, spans)
	for _, s := range spans {
		for _, kv := range s.Attributes {
			v := kv.Value.String()
			for _, secret := range []string{pwFirst, pwSecond, email, token} {
				assert.NotContains(t, v, secret, "span %s attribute %s", s.Name, kv.Key)
			}
		}
		for _, ev := range s.Events {
			for _, kv := range ev.Attributes {
				assert.NotContains(t, kv.Value.String(), pwSecond, "span %s event %s", s.Name, ev.Name)
			}
		}
	}
}
