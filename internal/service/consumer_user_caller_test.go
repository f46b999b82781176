package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The handlers' own checks for a caller acting as a consumer user (a user session, which the access
// layer resolves), called directly with such a Principal: what only a service may do is refused
// with PERMISSION_DENIED naming the field, and a factor or session ID is accepted only when it is
// the caller's own. Until the Principal carries the user's ID, a user caller is refused every ID
// (fail closed).
func TestConsumerHandlersRefuseAUserWhatIsNotTheirs(t *testing.T) {
	emu, consumer := apptest.DevEmulator(t)
	client := testkit.Client(t, emu, func(c *stytchclient.Config) {
		c.ProjectID, c.Secret, c.ProjectType = consumer.ProjectID(), consumer.Secret(), stytchclient.ProjectConsumer
	})
	u, err := consumer.CreateUser(stytchemu.UserParams{Email: "own@example.com", Verified: true})
	require.NoError(t, err)
	totp, err := consumer.SeedUserFactor(u.ID, stytchemu.FactorTOTP)
	require.NoError(t, err)
	sess, err := consumer.CreateUserSession(u.ID, 0)
	require.NoError(t, err)

	asUser := access.WithPrincipal(context.Background(), access.Principal{Kind: access.KindUser, SessionID: sess.ID})
	asService := access.WithPrincipal(context.Background(), access.Principal{Kind: access.KindService, ClientID: "ops"})
	users := service.NewUsers(client, nopRevocations{}, emu.Now, nil)

	for field, req := range map[string]*consumerv1.UsersServiceUpdateRequest{
		"trusted_metadata": {UserId: u.ID, TrustedMetadata: mustStruct(t, map[string]any{"plan": "gold"})},
		"external_id":      {UserId: u.ID, ExternalId: ptr("mine")},
		"roles":            {UserId: u.ID, Roles: &consumerv1.RoleIds{}},
	} {
		_, err := users.Update(asUser, req)
		st := status.Convert(err)
		assert.Equal(t, codes.PermissionDenied, st.Code(), field)
		assert.Equal(t, "field_not_allowed_for_user", errorInfo(st).GetReason(), field)
		assert.Contains(t, violatedFields(st), field)
	}
	_, err = users.Update(asUser, &consumerv1.UsersServiceUpdateRequest{UserId: u.ID, Name: &consumerv1.Name{FirstName: "Own"}})
	require.NoError(t, err, "name and untrusted metadata are the user's to change")
	_, err = users.Update(asService, &consumerv1.UsersServiceUpdateRequest{UserId: u.ID, TrustedMetadata: mustStruct(t, map[string]any{"plan": "gold"})})
	require.NoError(t, err, "a service may set trusted metadata")

	_, err = users.DeleteTOTP(asUser, &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: totp})
	st := status.Convert(err)
	assert.Equal(t, codes.PermissionDenied, st.Code())
	assert.Equal(t, "factor_not_owned", errorInfo(st).GetReason())
	_, err = users.DeleteTOTP(asService, &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: totp})
	require.NoError(t, err)

	// With the caller's user ID known: its own factor may go, another user's may not.
	other, err := consumer.CreateUser(stytchemu.UserParams{Email: "other@example.com"})
	require.NoError(t, err)
	otherTOTP, err := consumer.SeedUserFactor(other.ID, stytchemu.FactorTOTP)
	require.NoError(t, err)
	ownTOTP, err := consumer.SeedUserFactor(u.ID, stytchemu.FactorTOTP)
	require.NoError(t, err)
	asOwner := access.WithPrincipal(context.Background(), access.Principal{Kind: access.KindUser, UserID: u.ID, SessionID: sess.ID})
	_, err = users.DeleteTOTP(asOwner, &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: otherTOTP})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "another user's factor")
	_, err = users.DeleteTOTP(asOwner, &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: ownTOTP})
	require.NoError(t, err, "the caller's own factor")

	sessions := service.NewConsumerSessions(client, nil, nil, nopRevocations{}, emu.Now, nil) // Revoke by session ID needs neither checker nor keys
	_, err = sessions.Revoke(asUser, &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionId{SessionId: sess.ID}})
	st = status.Convert(err)
	assert.Equal(t, codes.PermissionDenied, st.Code())
	assert.Equal(t, "session_not_owned", errorInfo(st).GetReason())
	_, err = sessions.Get(asUser, &consumerv1.SessionsServiceGetRequest{})
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "no user ID known for the caller yet")
}

func ptr[T any](v T) *T { return &v }

type nopRevocations struct{}

func (nopRevocations) Revoke(context.Context, string, time.Time)                  {}
func (nopRevocations) RevokeMember(context.Context, string, time.Time, time.Time) {}
