package app_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The consumer factors' secrets, with debug logs and every span captured as in
// TestNoConsumerSecretReachesLogsOrSpans: an authenticator app's secret, its codes (a wrong one and
// the right one) and recovery codes (a used one and a junk one), an OAuth token, its PKCE verifier
// and the provider's tokens authsvc hands back, and a junk OAuth token. None may appear in a log
// line or a span.
func TestNoConsumerFactorSecretReachesLogsOrSpans(t *testing.T) {
	env := startKeepingTelemetry(t)
	secrets := map[string]string{}
	checkNoSecretInDump(t, env, secrets, "authsvc.consumer.v1.TOTPsService", "authsvc.consumer.v1.OAuthService")
	ctx := t.Context()

	// A user with a password and a session, who enrols an authenticator app with that session.
	const password = "tangerine-Kayak-47-orbit"
	email := "tess.totp@example.com"
	secrets["password"], secrets["email address"] = password, email
	signup, err := consumerv1.NewPasswordsServiceClient(env.Conn).Create(ctx, &consumerv1.PasswordsServiceCreateRequest{
		Email: email, Password: password, SessionDurationMinutes: proto.Int32(60),
	})
	require.NoError(t, err)
	secrets["session JWT"] = signup.GetSessionJwt()
	asUser := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+signup.GetSessionJwt())

	totps := consumerv1.NewTOTPsServiceClient(env.Conn)
	created, err := totps.Create(asUser, &consumerv1.TOTPsServiceCreateRequest{UserId: signup.GetUserId()})
	require.NoError(t, err)
	secrets["TOTP secret"] = created.GetSecret()
	require.GreaterOrEqual(t, len(created.GetRecoveryCodes()), 2)
	secrets["used recovery code"] = created.GetRecoveryCodes()[0]
	secrets["unused recovery code"] = created.GetRecoveryCodes()[1]

	code, err := totp.GenerateCode(created.GetSecret(), time.Now())
	require.NoError(t, err)
	secrets["TOTP code"] = code
	wrong := "000001"
	if wrong == code {
		wrong = "000002"
	}
	secrets["wrong TOTP code"] = wrong
	_, err = totps.Authenticate(ctx, &consumerv1.TOTPsServiceAuthenticateRequest{UserId: signup.GetUserId(), TotpCode: wrong})
	require.Error(t, err)
	// Over REST, as a browser: the right code, then a recovery code.
	r := env.RESTWithHeaders(t, http.MethodPost, "/v1/totps/authenticate",
		map[string]any{"user_id": signup.GetUserId(), "totp_code": code, "session_duration_minutes": 60}, http.Header{"Origin": {env.BaseURL}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	_, err = totps.Recover(ctx, &consumerv1.TOTPsServiceRecoverRequest{UserId: signup.GetUserId(), RecoveryCode: secrets["used recovery code"]})
	require.NoError(t, err)
	secrets["junk recovery code"] = "junk-code-9999"
	_, err = totps.Recover(ctx, &consumerv1.TOTPsServiceRecoverRequest{UserId: signup.GetUserId(), RecoveryCode: secrets["junk recovery code"]})
	require.Error(t, err)

	// OAuth with PKCE: the start URL, the emulator's consent page, the token redeemed once.
	oauth := consumerv1.NewOAuthServiceClient(env.Conn)
	verifier := "redaction-test-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
	secrets["PKCE verifier"] = verifier
	sum := sha256.Sum256([]byte(verifier))
	start, err := oauth.StartURL(ctx, &consumerv1.OAuthServiceStartURLRequest{
		Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
	})
	require.NoError(t, err)
	oauthEmail := "olive.oauth@example.com"
	secrets["OAuth user's email address"] = oauthEmail
	back := testkit.OAuthConsent(t, start.GetUrl(), oauthEmail)
	secrets["OAuth token"] = back.Query().Get("token")
	res, err := oauth.Authenticate(ctx, &consumerv1.OAuthServiceAuthenticateRequest{
		Token: secrets["OAuth token"], CodeVerifier: verifier, SessionDurationMinutes: proto.Int32(60),
	})
	require.NoError(t, err)
	secrets["provider access token"] = res.GetProviderValues().GetAccessToken()
	secrets["OAuth session token"] = res.GetSessionToken()
	_, err = oauth.Authenticate(ctx, &consumerv1.OAuthServiceAuthenticateRequest{Token: secrets["OAuth token"], CodeVerifier: verifier})
	require.Error(t, err, "a token is redeemed once")
	secrets["junk OAuth token"] = "junkOAuthToken0123456789abcdefJUNKJUNK"
	_, err = oauth.Authenticate(ctx, &consumerv1.OAuthServiceAuthenticateRequest{Token: secrets["junk OAuth token"]})
	require.Error(t, err)
}
