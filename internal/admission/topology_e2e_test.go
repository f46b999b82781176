package admission_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/redistest"
)

// Two replicas share their state as well through a Redis Cluster (redis+cluster://) and through a
// primary found by Redis Sentinel (redis+sentinel://) as through one server: one send budget for
// both, and a session revoked on one refused by the other as soon as the published revocation
// arrives (pub/sub through the same deployment).
func TestReplicasShareStateOnClusterAndSentinel(t *testing.T) {
	for name, start := range map[string]func(t *testing.T) string{
		"cluster": func(t *testing.T) string { return "redis+cluster://" + redistest.StartCluster(t).Addr },
		"sentinel": func(t *testing.T) string {
			sentinel := redistest.StartSentinel(t, redistest.Start(t), "authsvc")
			return "redis+sentinel://" + sentinel.Addr + "/0?master_name=authsvc"
		},
	} {
		t.Run(name, func(t *testing.T) {
			url := start(t)
			w := newWorld(t)
			a, b := w.replica(t, url), w.replica(t, url)
			ctx := t.Context()

			budget := admission.DefaultPolicy().SendPerEmail.Events
			for i := range budget {
				env := a
				if i%2 == 1 {
					env = b
				}
				_, err := otpSend(ctx, env, w.org.ID, w.member.Email)
				require.NoError(t, err, "send %d", i+1)
			}
			_, err := otpSend(ctx, a, w.org.ID, w.member.Email)
			requireRateLimited(t, err, admission.LimitSendEmail)
			_, err = otpSend(ctx, b, w.org.ID, w.member.Email)
			requireRateLimited(t, err, admission.LimitSendEmail)
			assert.Equal(t, budget, w.emu.Requests(upstreamOTPSend), "refused sends must not reach Stytch")

			sess, err := w.emu.CreateSession(w.org.ID, w.member.ID, time.Hour)
			require.NoError(t, err)
			authB := func() (*b2bv1.SessionsServiceAuthenticateResponse, error) {
				return b2bv1.NewSessionsServiceClient(b.Conn).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
					Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
				})
			}
			res, err := authB()
			require.NoError(t, err)
			require.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, res.GetVerifiedBy())
			require.NoError(t, b.App.WaitRevocations(ctx))

			_, err = b2bv1.NewSessionsServiceClient(a.Conn).Revoke(ctx, &b2bv1.SessionsServiceRevokeRequest{
				Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT},
			})
			require.NoError(t, err)
			// B's clock does not move: its cached "not revoked" answer stays fresh, so only the
			// message can tell it. It arrives asynchronously; B's answer is the signal.
			require.Eventually(t, func() bool {
				_, err := authB()
				return err != nil
			}, 10*time.Second, 5*time.Millisecond, "the revocation reached replica B")
			_, err = authB()
			assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.NotFound}, status.Code(err), "%v", err)
		})
	}
}
