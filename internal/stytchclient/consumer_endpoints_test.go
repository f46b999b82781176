package stytchclient_test

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// consumer makes a harness config talk to a consumer project.
func consumer(c *sc.Config) { c.ProjectType = sc.ProjectConsumer }

// newConsumerHarness is a consumer-project emulator on loopback and a consumer client wired to it.
func newConsumerHarness(t *testing.T, mutate ...func(*sc.Config)) *harness {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithStartTime(testStart))
	return newHarnessFor(t, emu, emu.URL, append([]func(*sc.Config){consumer}, mutate...)...)
}

// requireStytchError checks that err is Stytch's errType answered with httpStatus, and that
// callers of authsvc get code for it.
func requireStytchError(t *testing.T, err error, httpStatus int, errType string, code codes.Code) {
	t.Helper()
	require.Error(t, err)
	e, ok := sc.AsError(err)
	require.True(t, ok, "want *Error, got %T %v", err, err)
	assert.Equal(t, httpStatus, e.StatusCode, "%v", err)
	assert.Equal(t, errType, e.ErrorType, "%v", err)
	assert.NotEmpty(t, e.RequestID)
	assert.Equal(t, code, status.Code(err), "%v", err)
}

// pkce returns a verifier and its S256 challenge.
func pkce(verifier string) (string, string) {
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestConsumerEndpoints walks every consumer method through a consumer-project emulator over real
// HTTP: the happy path, and the Stytch errors each can answer with their gRPC code. Steps depend on
// earlier ones, so a failure stops the walk.
func TestConsumerEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	b2b := newHarness(t) // another project, whose keys must not verify consumer JWTs
	ctx := t.Context()
	c := h.client
	emu := h.emu

	var ada sc.User // created by UserCreate, logged in by magic link

	t.Run("UserCreate", func(t *testing.T) {
		res, err := c.UserCreate(ctx, sc.UserCreateParams{
			Email: "ada@example.com", PhoneNumber: "+15555550100",
			Name:            &sc.UserName{FirstName: "Ada", LastName: "Lovelace"},
			TrustedMetadata: sc.Metadata{"plan": "pro"}, ExternalID: "ext-ada", Roles: []string{"editor"},
		})
		require.NoError(t, err)
		assert.NotEmpty(t, res.RequestID)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "active", res.Status)
		assert.Equal(t, res.UserID, res.User.UserID)
		require.Len(t, res.User.Emails, 1)
		assert.Equal(t, res.EmailID, res.User.Emails[0].EmailID)
		assert.Equal(t, "ada@example.com", res.User.Emails[0].Email)
		require.Len(t, res.User.PhoneNumbers, 1)
		assert.Equal(t, res.PhoneID, res.User.PhoneNumbers[0].PhoneID)
		require.NotNil(t, res.User.Name)
		assert.Equal(t, "Ada", res.User.Name.FirstName)
		assert.Equal(t, "pro", res.User.TrustedMetadata["plan"])
		assert.ElementsMatch(t, []string{stytchemu.RoleUser, "editor"}, res.User.Roles)
		assert.Equal(t, testStart, res.User.CreatedAt.Time)
		ada = res.User
	})
	require.NotEmpty(t, ada.UserID)

	t.Run("UserCreate errors", func(t *testing.T) {
		_, err := c.UserCreate(ctx, sc.UserCreateParams{Email: "ada@example.com"})
		requireStytchError(t, err, http.StatusBadRequest, "duplicate_email", codes.InvalidArgument)
		_, err = c.UserCreate(ctx, sc.UserCreateParams{PhoneNumber: "+15555550100"})
		requireStytchError(t, err, http.StatusBadRequest, "duplicate_phone_number", codes.InvalidArgument)
		_, err = c.UserCreate(ctx, sc.UserCreateParams{Email: "not-an-email"})
		requireStytchError(t, err, http.StatusBadRequest, "invalid_email", codes.InvalidArgument)
		_, err = c.UserCreate(ctx, sc.UserCreateParams{PhoneNumber: "5550100"})
		requireStytchError(t, err, http.StatusBadRequest, "invalid_phone_number", codes.InvalidArgument)
		_, err = c.UserCreate(ctx, sc.UserCreateParams{Email: "other@example.com", ExternalID: "ext-ada"})
		requireStytchError(t, err, http.StatusBadRequest, "duplicate_user_external_id", codes.InvalidArgument)
	})

	t.Run("UserGet by ID and by external ID", func(t *testing.T) {
		res, err := c.UserGet(ctx, ada.UserID)
		require.NoError(t, err)
		assert.NotEmpty(t, res.RequestID)
		assert.Equal(t, ada.UserID, res.UserID)
		assert.Equal(t, "ext-ada", res.ExternalID)
		assert.Equal(t, ada.Emails, res.Emails)
		byExt, err := c.UserGet(ctx, "ext-ada")
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, byExt.UserID)
		_, err = c.UserGet(ctx, "user-test-00000000-0000-0000-0000-000000000000")
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
	})

	t.Run("UserUpdate clears roles with an empty list and leaves nil fields alone", func(t *testing.T) {
		res, err := c.UserUpdate(ctx, sc.UserUpdateParams{
			UserID: ada.UserID, Roles: []string{}, UntrustedMetadata: sc.Metadata{"theme": "dark"},
		})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		assert.Equal(t, []string{stytchemu.RoleUser}, res.User.Roles, "explicit roles removed")
		assert.Equal(t, "dark", res.User.UntrustedMetadata["theme"])
		assert.Equal(t, "pro", res.User.TrustedMetadata["plan"], "nil TrustedMetadata leaves it alone")
		require.NotNil(t, res.User.Name)
		assert.Equal(t, "Ada", res.User.Name.FirstName, "nil Name leaves it alone")
		assert.Equal(t, ada.Emails, res.Emails)
		assert.Equal(t, ada.PhoneNumbers, res.PhoneNumbers)

		res, err = c.UserUpdate(ctx, sc.UserUpdateParams{UserID: ada.UserID, ExternalID: new(""), Name: &sc.UserName{FirstName: "Augusta"}})
		require.NoError(t, err)
		assert.Empty(t, res.User.ExternalID, "a pointer to \"\" clears")
		assert.Equal(t, "Augusta", res.User.Name.FirstName)

		_, err = c.UserUpdate(ctx, sc.UserUpdateParams{UserID: "user-test-00000000-0000-0000-0000-000000000000"})
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
	})

	t.Run("UserSearch with operands and cursor paging", func(t *testing.T) {
		for i := range 3 {
			_, err := c.UserCreate(ctx, sc.UserCreateParams{Email: fmt.Sprintf("p%d@paging.example", i)})
			require.NoError(t, err)
		}
		q := &sc.SearchQuery{Operator: "AND", Operands: []map[string]any{
			{"filter_name": "email_domain", "filter_value": []string{"paging.example"}},
		}}
		first, err := c.UserSearch(ctx, sc.UserSearchParams{Limit: 2, Query: q})
		require.NoError(t, err)
		assert.Len(t, first.Results, 2)
		assert.Equal(t, 3, first.ResultsMetadata.Total)
		require.NotEmpty(t, first.ResultsMetadata.NextCursor)
		second, err := c.UserSearch(ctx, sc.UserSearchParams{Limit: 2, Query: q, Cursor: first.ResultsMetadata.NextCursor})
		require.NoError(t, err)
		require.Len(t, second.Results, 1)
		assert.Empty(t, second.ResultsMetadata.NextCursor, "last page")
		seen := map[string]bool{}
		for _, u := range append(first.Results, second.Results...) {
			seen[u.Emails[0].Email] = true
		}
		assert.Len(t, seen, 3, "the pages do not overlap")

		byEmail, err := c.UserSearch(ctx, sc.UserSearchParams{Query: &sc.SearchQuery{Operator: "AND", Operands: []map[string]any{
			{"filter_name": "email_address", "filter_value": []string{"ada@example.com"}},
		}}})
		require.NoError(t, err)
		require.Len(t, byEmail.Results, 1)
		assert.Equal(t, ada.UserID, byEmail.Results[0].UserID)

		_, err = c.UserSearch(ctx, sc.UserSearchParams{Query: &sc.SearchQuery{Operator: "AND", Operands: []map[string]any{
			{"filter_name": "no_such_filter", "filter_value": []string{"x"}},
		}}})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	var (
		sessionToken string
		sessionJWT   string
		session      sc.UserSession
	)

	t.Run("ConsumerMagicLinkSend then ConsumerMagicLinkAuthenticate starts a session", func(t *testing.T) {
		res, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: "ada@example.com"})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		assert.Equal(t, ada.Emails[0].EmailID, res.EmailID)
		msg, ok := emu.LastMessage("ada@example.com")
		require.True(t, ok)
		require.NotEmpty(t, msg.Token)

		auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{
			Token: msg.Token, SessionDurationMinutes: 60, SessionCustomClaims: sc.Metadata{"tier": "gold"},
		})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, auth.UserID)
		assert.Equal(t, res.EmailID, auth.MethodID)
		assert.False(t, auth.ResetSessions)
		assert.True(t, auth.User.Emails[0].Verified, "authenticating verifies the address")
		require.NotNil(t, auth.Session)
		assert.Equal(t, ada.UserID, auth.Session.UserID)
		assert.Equal(t, testStart.Add(time.Hour), auth.Session.ExpiresAt.Time)
		assert.Equal(t, "gold", auth.Session.CustomClaims["tier"])
		require.Len(t, auth.Session.AuthenticationFactors, 1)
		f := auth.Session.AuthenticationFactors[0]
		assert.Equal(t, "magic_link", f.Type)
		assert.Equal(t, "email", f.DeliveryMethod)
		require.NotNil(t, f.EmailFactor)
		assert.Equal(t, res.EmailID, f.EmailFactor.EmailID)
		sessionToken, sessionJWT, session = auth.SessionToken, auth.SessionJWT, *auth.Session

		_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_magic_link", codes.Unauthenticated)
		_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: "no-such-token"})
		requireStytchError(t, err, http.StatusNotFound, "magic_link_not_found", codes.NotFound)
		_, err = c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: "nobody@example.com"})
		requireStytchError(t, err, http.StatusNotFound, "email_not_found", codes.NotFound)
	})
	require.NotEmpty(t, sessionToken)
	require.NotEmpty(t, sessionJWT)

	t.Run("ConsumerMagicLinkAuthenticate without a duration creates no session", func(t *testing.T) {
		_, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: "ada@example.com"})
		require.NoError(t, err)
		msg, _ := emu.LastMessage("ada@example.com")
		auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, auth.UserID)
		assert.Empty(t, auth.SessionToken)
		assert.Empty(t, auth.SessionJWT)
		assert.Nil(t, auth.Session)
	})

	t.Run("ConsumerMagicLinkAuthenticate with PKCE", func(t *testing.T) {
		verifier, challenge := pkce("a-verifier-of-at-least-forty-three-characters-0123")
		_, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: "ada@example.com", CodeChallenge: challenge})
		require.NoError(t, err)
		msg, _ := emu.LastMessage("ada@example.com")
		_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token, CodeVerifier: "wrong-verifier"})
		requireStytchError(t, err, http.StatusBadRequest, "pkce_mismatch", codes.InvalidArgument)
		auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token, CodeVerifier: verifier})
		require.NoError(t, err, "a refused verifier does not spend the link")
		assert.Equal(t, ada.UserID, auth.UserID)
	})

	t.Run("ConsumerMagicLinkAuthenticate joins an existing session", func(t *testing.T) {
		_, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: "ada@example.com"})
		require.NoError(t, err)
		msg, _ := emu.LastMessage("ada@example.com")
		_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token, SessionToken: sessionToken, SessionJWT: sessionJWT})
		requireStytchError(t, err, http.StatusBadRequest, "too_many_session_arguments", codes.InvalidArgument)
		auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token, SessionToken: sessionToken})
		require.NoError(t, err)
		require.NotNil(t, auth.Session)
		assert.Equal(t, session.SessionID, auth.Session.SessionID)
		assert.Equal(t, sessionToken, auth.SessionToken)
	})

	t.Run("ConsumerMagicLinkLoginOrCreate", func(t *testing.T) {
		res, err := c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: "new@example.com", CreateUserAsPending: true})
		require.NoError(t, err)
		assert.True(t, res.UserCreated)
		assert.NotEmpty(t, res.EmailID)
		msg, ok := emu.LastMessage("new@example.com")
		require.True(t, ok)
		assert.Equal(t, stytchemu.TemplateSignup, msg.Template)
		got, err := c.UserGet(ctx, res.UserID)
		require.NoError(t, err)
		assert.Equal(t, "pending", got.Status)

		again, err := c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: "new@example.com"})
		require.NoError(t, err)
		assert.False(t, again.UserCreated)
		assert.Equal(t, res.UserID, again.UserID)

		_, err = c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: "new@example.com", LoginExpirationMinutes: 1})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	t.Run("ConsumerMagicLinkInvite then ConsumerMagicLinkRevokeInvite", func(t *testing.T) {
		res, err := c.ConsumerMagicLinkInvite(ctx, sc.ConsumerMagicLinkInviteParams{
			Email: "invitee@example.com", Name: &sc.UserName{FirstName: "Ivy"}, InviteExpirationMinutes: 30,
		})
		require.NoError(t, err)
		got, err := c.UserGet(ctx, res.UserID)
		require.NoError(t, err)
		assert.Equal(t, "pending", got.Status)
		msg, ok := emu.LastMessage("invitee@example.com")
		require.True(t, ok)
		assert.Equal(t, stytchemu.TemplateInvite, msg.Template)

		_, err = c.ConsumerMagicLinkRevokeInvite(ctx, sc.ConsumerMagicLinkRevokeInviteParams{Email: "invitee@example.com"})
		require.NoError(t, err)
		_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: msg.Token})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_magic_link", codes.Unauthenticated)
		_, err = c.ConsumerMagicLinkRevokeInvite(ctx, sc.ConsumerMagicLinkRevokeInviteParams{Email: "invitee@example.com"})
		requireStytchError(t, err, http.StatusNotFound, "invite_not_found", codes.NotFound)
		_, err = c.ConsumerMagicLinkInvite(ctx, sc.ConsumerMagicLinkInviteParams{Email: "ada@example.com"})
		requireStytchError(t, err, http.StatusBadRequest, "user_already_active", codes.InvalidArgument)
	})

	t.Run("ConsumerMagicLinkCreate then authenticate an embeddable link", func(t *testing.T) {
		res, err := c.ConsumerMagicLinkCreate(ctx, sc.ConsumerMagicLinkCreateParams{UserID: ada.UserID, ExpirationMinutes: 15})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		require.NotEmpty(t, res.Token)
		auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: res.Token, SessionDurationMinutes: 30})
		require.NoError(t, err)
		assert.Empty(t, auth.MethodID, "an embeddable link proves no delivery factor")
		require.NotNil(t, auth.Session)
		require.Len(t, auth.Session.AuthenticationFactors, 1)
		f := auth.Session.AuthenticationFactors[0]
		assert.Equal(t, "embedded", f.DeliveryMethod)
		require.NotNil(t, f.EmbeddableMagicLinkFactor)
		assert.NotEmpty(t, f.EmbeddableMagicLinkFactor.EmbeddedID)

		_, err = c.ConsumerMagicLinkCreate(ctx, sc.ConsumerMagicLinkCreateParams{UserID: "user-test-00000000-0000-0000-0000-000000000000"})
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
	})

	t.Run("ConsumerOTPSMSLoginOrCreate then ConsumerOTPAuthenticate", func(t *testing.T) {
		res, err := c.ConsumerOTPSMSLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: "+15555550111", ExpirationMinutes: 5})
		require.NoError(t, err)
		assert.True(t, res.UserCreated)
		require.NotEmpty(t, res.PhoneID)
		msg, ok := emu.LastMessage("+15555550111")
		require.True(t, ok)
		assert.Equal(t, stytchemu.KindSMS, msg.Kind)

		_, err = c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: res.PhoneID, Code: wrongCode(msg.Code)})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_otp_code", codes.Unauthenticated)
		auth, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: res.PhoneID, Code: msg.Code, SessionDurationMinutes: 10})
		require.NoError(t, err)
		assert.Equal(t, res.UserID, auth.UserID)
		assert.Equal(t, res.PhoneID, auth.MethodID)
		require.NotNil(t, auth.Session)
		f := auth.Session.AuthenticationFactors[0]
		assert.Equal(t, "otp", f.Type)
		assert.Equal(t, "sms", f.DeliveryMethod)
		require.NotNil(t, f.PhoneNumberFactor)
		assert.Equal(t, "+15555550111", f.PhoneNumberFactor.PhoneNumber)

		_, err = c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: "phone-number-test-00000000-0000-0000-0000-000000000000", Code: "123456"})
		requireStytchError(t, err, http.StatusNotFound, "otp_code_not_found", codes.NotFound)
	})

	t.Run("ConsumerOTPSMSSend to a known number and to an unknown one", func(t *testing.T) {
		res, err := c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "+15555550100"})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		assert.Equal(t, ada.PhoneNumbers[0].PhoneID, res.PhoneID)
		_, err = c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "+15555550199"})
		requireStytchError(t, err, http.StatusNotFound, "phone_number_not_found", codes.NotFound)
		_, err = c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "not-a-phone"})
		requireStytchError(t, err, http.StatusBadRequest, "invalid_phone_number", codes.InvalidArgument)
	})

	t.Run("ConsumerOTPSMSSend adds a number to the user a session names", func(t *testing.T) {
		res, err := c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "+15555550122", SessionToken: sessionToken})
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		got, err := c.UserGet(ctx, ada.UserID)
		require.NoError(t, err)
		assert.Len(t, got.PhoneNumbers, 2)
	})

	t.Run("ConsumerOTPWhatsAppLoginOrCreate and ConsumerOTPWhatsAppSend", func(t *testing.T) {
		res, err := c.ConsumerOTPWhatsAppLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: "+15555550133"})
		require.NoError(t, err)
		assert.True(t, res.UserCreated)
		msg, ok := emu.LastMessage("+15555550133")
		require.True(t, ok)
		assert.Equal(t, stytchemu.KindWhatsApp, msg.Kind)
		send, err := c.ConsumerOTPWhatsAppSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "+15555550133"})
		require.NoError(t, err)
		assert.Equal(t, res.PhoneID, send.PhoneID)
		again, _ := emu.LastMessage("+15555550133")
		_, err = c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: send.PhoneID, Code: msg.Code})
		if msg.Code != again.Code {
			requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_otp_code", codes.Unauthenticated)
		}
		auth, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: send.PhoneID, Code: again.Code})
		require.NoError(t, err, "the newest code works")
		assert.Equal(t, res.UserID, auth.UserID)
		_, err = c.ConsumerOTPWhatsAppSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: "+15555550198"})
		requireStytchError(t, err, http.StatusNotFound, "phone_number_not_found", codes.NotFound)
	})

	t.Run("ConsumerOTPEmailLoginOrCreate and ConsumerOTPEmailSend", func(t *testing.T) {
		res, err := c.ConsumerOTPEmailLoginOrCreate(ctx, sc.ConsumerOTPEmailLoginOrCreateParams{Email: "otp@example.com"})
		require.NoError(t, err)
		assert.True(t, res.UserCreated)
		send, err := c.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: "otp@example.com", ExpirationMinutes: 3})
		require.NoError(t, err)
		assert.Equal(t, res.UserID, send.UserID)
		assert.Equal(t, res.EmailID, send.EmailID)
		msg, ok := emu.LastMessage("otp@example.com")
		require.True(t, ok)
		auth, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: send.EmailID, Code: msg.Code})
		require.NoError(t, err)
		assert.Equal(t, send.EmailID, auth.MethodID)
		assert.Nil(t, auth.Session)
		_, err = c.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: "nobody@example.com"})
		requireStytchError(t, err, http.StatusNotFound, "email_not_found", codes.NotFound)
		_, err = c.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: "otp@example.com", ExpirationMinutes: 11})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	t.Run("ConsumerSessionsGet", func(t *testing.T) {
		res, err := c.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: ada.UserID})
		require.NoError(t, err)
		require.NotEmpty(t, res.Sessions)
		ids := []string{}
		for _, s := range res.Sessions {
			assert.Equal(t, ada.UserID, s.UserID)
			ids = append(ids, s.SessionID)
		}
		assert.Contains(t, ids, session.SessionID)
		_, err = c.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: "user-test-00000000-0000-0000-0000-000000000000"})
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
		_, err = c.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	t.Run("ConsumerSessionsAuthenticate by token and by JWT", func(t *testing.T) {
		byToken, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{
			SessionToken: sessionToken, SessionDurationMinutes: 120, SessionCustomClaims: sc.Metadata{"seat": 7},
		})
		require.NoError(t, err)
		assert.Equal(t, session.SessionID, byToken.Session.SessionID)
		assert.Equal(t, ada.UserID, byToken.User.UserID)
		assert.Equal(t, testStart.Add(2*time.Hour), byToken.Session.ExpiresAt.Time, "the duration extends the session")
		assert.InDelta(t, 7, byToken.Session.CustomClaims["seat"], 0)
		assert.Equal(t, "gold", byToken.Session.CustomClaims["tier"], "earlier claims stay")
		assert.Nil(t, byToken.Verdict)

		byJWT, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionJWT: byToken.SessionJWT})
		require.NoError(t, err)
		assert.Equal(t, session.SessionID, byJWT.Session.SessionID)
		assert.NotEmpty(t, byJWT.SessionJWT)

		_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: sessionToken, SessionJWT: sessionJWT})
		requireStytchError(t, err, http.StatusBadRequest, "too_many_session_arguments", codes.InvalidArgument)
		_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: "no-such-session-token"})
		requireStytchError(t, err, http.StatusNotFound, "session_not_found", codes.NotFound)
	})

	t.Run("ConsumerSessionsAuthenticate with an authorization check", func(t *testing.T) {
		res, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{
			SessionToken:       sessionToken,
			AuthorizationCheck: &sc.ConsumerAuthorizationCheck{ResourceID: "stytch.self", Action: "update.info.name"},
		})
		require.NoError(t, err)
		require.NotNil(t, res.Verdict)
		assert.True(t, res.Verdict.Authorized)
		assert.Equal(t, []string{stytchemu.RoleUser}, res.Verdict.GrantingRoles)
		_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{
			SessionToken:       sessionToken,
			AuthorizationCheck: &sc.ConsumerAuthorizationCheck{ResourceID: "documents", Action: "delete"},
		})
		requireStytchError(t, err, http.StatusForbidden, "session_authorization_error", codes.PermissionDenied)
	})

	t.Run("consumer session JWTs verify against the consumer JWKS", func(t *testing.T) {
		before := emu.Requests("GET /v1/sessions/jwks/{project_id}")
		jwks, err := c.GetJWKS(ctx)
		require.NoError(t, err)
		raw, err := c.FetchJWKS(ctx)
		require.NoError(t, err)
		assert.Equal(t, before+2, emu.Requests("GET /v1/sessions/jwks/{project_id}"), "a consumer client fetches the consumer JWKS")
		assert.Zero(t, emu.Requests("GET /v1/b2b/sessions/jwks/{project_id}"))
		require.NotEmpty(t, jwks.Keys)
		assert.Contains(t, string(raw), jwks.Keys[0].KID)

		claims := jwt.MapClaims{}
		tok, err := jwt.ParseWithClaims(sessionJWT, claims, keyFromJWKS(t, jwks.Keys),
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(emu.Now))
		require.NoError(t, err)
		assert.True(t, tok.Valid)
		assert.Equal(t, ada.UserID, claims["sub"])
		assert.Equal(t, "stytch.com/"+emu.ProjectID(), claims["iss"])
		sess, ok := claims["https://stytch.com/session"].(map[string]any)
		require.True(t, ok)
		assert.Equal(t, session.SessionID, sess["id"])
		assert.NotContains(t, claims, "https://stytch.com/organization")

		// A B2B project's keys are another project's: the consumer JWT does not verify against them.
		other, err := b2b.client.GetJWKS(ctx)
		require.NoError(t, err)
		_, err = jwt.Parse(sessionJWT, keyFromJWKS(t, other.Keys), jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(emu.Now))
		require.Error(t, err)
	})

	t.Run("ConsumerSessionsMigrate", func(t *testing.T) {
		require.NoError(t, emu.AddMigrationToken("external-idp-token-1", "migrated@example.com"))
		res, err := c.ConsumerSessionsMigrate(ctx, sc.ConsumerSessionsMigrateParams{SessionToken: "external-idp-token-1", SessionDurationMinutes: 30})
		require.NoError(t, err)
		assert.NotEmpty(t, res.UserID)
		assert.Equal(t, "migrated@example.com", res.User.Emails[0].Email)
		require.NotNil(t, res.Session)
		assert.Equal(t, "imported", res.Session.AuthenticationFactors[0].Type)
		assert.NotEmpty(t, res.SessionJWT)
		_, err = c.ConsumerSessionsMigrate(ctx, sc.ConsumerSessionsMigrateParams{SessionToken: "unknown-idp-token"})
		requireStytchError(t, err, http.StatusUnauthorized, "invalid_migration_token", codes.Unauthenticated)
	})

	// The emulator has no Connected Apps, so no access token it could accept: only the refusal is
	// testable here.
	t.Run("ConsumerSessionsExchangeAccessToken refuses an unknown token", func(t *testing.T) {
		_, err := c.ConsumerSessionsExchangeAccessToken(ctx, sc.ConsumerSessionsExchangeAccessTokenParams{AccessToken: "unknown-access-token", SessionDurationMinutes: 30})
		requireStytchError(t, err, http.StatusNotFound, "idp_access_token_not_found", codes.NotFound)
		_, err = c.ConsumerSessionsExchangeAccessToken(ctx, sc.ConsumerSessionsExchangeAccessTokenParams{})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	t.Run("ConsumerSessionsRevoke", func(t *testing.T) {
		_, err := c.ConsumerSessionsRevoke(ctx, sc.ConsumerSessionsRevokeParams{SessionID: session.SessionID})
		require.NoError(t, err)
		_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: sessionToken})
		requireStytchError(t, err, http.StatusNotFound, "session_not_found", codes.NotFound)
		_, err = c.ConsumerSessionsRevoke(ctx, sc.ConsumerSessionsRevokeParams{SessionID: session.SessionID})
		requireStytchError(t, err, http.StatusNotFound, "session_not_found", codes.NotFound)
		_, err = c.ConsumerSessionsRevoke(ctx, sc.ConsumerSessionsRevokeParams{})
		requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
	})

	t.Run("factor deletes", func(t *testing.T) {
		u, err := emu.CreateUser(stytchemu.UserParams{Email: "factors@example.com", Phone: "+15555550144"})
		require.NoError(t, err)
		deletes := []struct {
			kind    string
			del     func(id string) (*sc.UserResult, error)
			gone    func(sc.User) bool
			errType string
		}{
			{
				stytchemu.FactorPassword, func(id string) (*sc.UserResult, error) { return c.UserDeletePassword(ctx, id) },
				func(u sc.User) bool { return u.Password == nil }, "password_not_found",
			},
			{
				stytchemu.FactorTOTP, func(id string) (*sc.UserResult, error) { return c.UserDeleteTOTP(ctx, id) },
				func(u sc.User) bool { return len(u.TOTPs) == 0 }, "totp_not_found",
			},
			{
				stytchemu.FactorWebAuthn, func(id string) (*sc.UserResult, error) { return c.UserDeleteWebAuthnRegistration(ctx, id) },
				func(u sc.User) bool { return len(u.WebAuthnRegistrations) == 0 }, "webauthn_registration_not_found",
			},
			{
				stytchemu.FactorOAuth, func(id string) (*sc.UserResult, error) { return c.UserDeleteOAuthRegistration(ctx, id) },
				func(u sc.User) bool { return len(u.Providers) == 0 }, "oauth_user_registration_not_found",
			},
			{
				stytchemu.FactorCrypto, func(id string) (*sc.UserResult, error) { return c.UserDeleteCryptoWallet(ctx, id) },
				func(u sc.User) bool { return len(u.CryptoWallets) == 0 }, "crypto_wallet_not_found",
			},
			{
				stytchemu.FactorBiometric, func(id string) (*sc.UserResult, error) { return c.UserDeleteBiometricRegistration(ctx, id) },
				func(u sc.User) bool { return len(u.BiometricRegistrations) == 0 }, "biometric_registration_not_found",
			},
		}
		for _, d := range deletes {
			t.Run(d.kind, func(t *testing.T) {
				id, err := emu.SeedUserFactor(u.ID, d.kind)
				require.NoError(t, err)
				before, err := c.UserGet(ctx, u.ID)
				require.NoError(t, err)
				require.False(t, d.gone(before.User), "seeded")
				res, err := d.del(id)
				require.NoError(t, err)
				assert.Equal(t, u.ID, res.UserID)
				assert.True(t, d.gone(res.User), "the returned user no longer has it")
				_, err = d.del(id)
				requireStytchError(t, err, http.StatusNotFound, d.errType, codes.NotFound)
			})
		}
		t.Run("email and phone number", func(t *testing.T) {
			res, err := c.UserDeleteEmail(ctx, u.EmailID)
			require.NoError(t, err)
			assert.Empty(t, res.User.Emails)
			_, err = c.UserDeleteEmail(ctx, u.EmailID)
			requireStytchError(t, err, http.StatusNotFound, "email_not_found", codes.NotFound)
			res, err = c.UserDeletePhoneNumber(ctx, u.PhoneID)
			require.NoError(t, err)
			assert.Empty(t, res.User.PhoneNumbers)
			_, err = c.UserDeletePhoneNumber(ctx, u.PhoneID)
			requireStytchError(t, err, http.StatusNotFound, "phone_number_not_found", codes.NotFound)
		})
	})

	t.Run("UserExchangePrimaryFactor", func(t *testing.T) {
		u, err := emu.CreateUser(stytchemu.UserParams{Email: "single@example.com"})
		require.NoError(t, err)
		res, err := c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: u.ID, PhoneNumber: "+15555550155"})
		require.NoError(t, err)
		assert.Equal(t, u.ID, res.UserID)
		assert.Empty(t, res.User.Emails)
		require.Len(t, res.User.PhoneNumbers, 1)
		assert.Equal(t, "+15555550155", res.User.PhoneNumbers[0].PhoneNumber)

		_, err = c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: ada.UserID, EmailAddress: "ada2@example.com"})
		requireStytchError(t, err, http.StatusBadRequest, "too_many_factors", codes.InvalidArgument)
		_, err = c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: u.ID, EmailAddress: "ada@example.com"})
		requireStytchError(t, err, http.StatusBadRequest, "duplicate_email", codes.InvalidArgument)
	})

	t.Run("UserDelete", func(t *testing.T) {
		res, err := c.UserDelete(ctx, ada.UserID)
		require.NoError(t, err)
		assert.Equal(t, ada.UserID, res.UserID)
		_, err = c.UserGet(ctx, ada.UserID)
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
		_, err = c.UserDelete(ctx, ada.UserID)
		requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
	})
}

// wrongCode returns a six-digit code that is not code.
func wrongCode(code string) string {
	if code == "000001" {
		return "000002"
	}
	return "000001"
}

// keyFromJWKS is a jwt.Keyfunc over RSA JWKs, by kid.
func keyFromJWKS(t *testing.T, keys []sc.JWK) jwt.Keyfunc {
	t.Helper()
	byKID := map[string]*rsa.PublicKey{}
	for _, k := range keys {
		require.Equal(t, "RSA", k.KTY)
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		require.NoError(t, err)
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		require.NoError(t, err)
		byKID[k.KID] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := byKID[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("no key %q", kid)
	}
}
