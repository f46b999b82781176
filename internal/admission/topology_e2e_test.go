package admission_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/apptest"
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

// A master killed under two replicas: while it is down, sends are refused as declared
// (AUTHSVC_REDIS_FAIL_SENDS defaults to closed: UNAVAILABLE, and Stytch is not called) and session
// verification goes on; then the deployment heals (Sentinel promotes the replica; the Cluster's
// node is restarted) and both replicas use it again without being restarted: budgets, idempotency
// keys and revocations shared as before.
func TestReplicasRideOutAMasterKilled(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T) (url string, kill func(t *testing.T, sent string), heal func(t *testing.T)){
		"cluster": func(t *testing.T) (string, func(*testing.T, string), func(*testing.T)) {
			c := redistest.StartShardedCluster(t)
			var dead *redistest.Server
			return c.URL(), func(t *testing.T, _ string) {
					// The master holding one of the send's budgets: find it by its keys.
					for _, m := range c.Masters {
						if keys, err := m.Client(t).Keys(t.Context(), "*authsvc:admission:*").Result(); err == nil && len(keys) > 0 {
							dead = m
							break
						}
					}
					require.NotNil(t, dead, "no master holds a budget")
					dead.Kill(t)
				}, func(t *testing.T) {
					dead.Restart(t)
					c.WaitHealthy(t)
				}
		},
		"sentinel": func(t *testing.T) (string, func(*testing.T, string), func(*testing.T)) {
			g := redistest.StartSentinelGroup(t, "authsvc")
			return g.URL(), func(t *testing.T, _ string) { g.Primary.Kill(t) },
				func(t *testing.T) { g.WaitPrimary(t, g.Replica.Addr) }
		},
	} {
		t.Run(name, func(t *testing.T) {
			url, kill, heal := setup(t)
			w := newWorld(t)
			a, b := w.replica(t, url), w.replica(t, url)
			ctx := t.Context()
			require.NoError(t, a.App.WaitRevocations(ctx))
			require.NoError(t, b.App.WaitRevocations(ctx))

			// An idempotency key claimed on A is honoured by B: one email in all.
			key := metadata.Pairs("idempotency-key", fmt.Sprintf("fleet-%s-%d", name, uniq.Add(1)))
			_, err := otpSend(metadata.NewOutgoingContext(ctx, key), a, w.org.ID, w.member.Email)
			require.NoError(t, err)
			_, err = otpSend(metadata.NewOutgoingContext(ctx, key), b, w.org.ID, w.member.Email)
			require.NoError(t, err)
			require.Equal(t, 1, w.emu.Requests(upstreamOTPSend), "the replayed send did not reach Stytch")

			sess, err := w.emu.CreateSession(w.org.ID, w.member.ID, time.Hour)
			require.NoError(t, err)
			auth := func(env *apptest.Env) error {
				_, err := b2bv1.NewSessionsServiceClient(env.Conn).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
					Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
				})
				return err
			}
			require.NoError(t, auth(a))
			require.NoError(t, auth(b))

			kill(t, w.member.Email)
			for _, env := range []*apptest.Env{a, b} {
				_, err = otpSend(ctx, env, w.org.ID, w.member.Email)
				st := status.Convert(err)
				require.Equal(t, codes.Unavailable, st.Code(), "a send with its budget unreachable: %v", err)
				// Verification does not need Redis.
				require.NoError(t, auth(env), "session check with a master down")
			}
			assert.Equal(t, 1, w.emu.Requests(upstreamOTPSend), "refused sends must not reach Stytch")

			heal(t)
			// Both replicas send again once their clients find the healed deployment (the
			// request path's breaker skips Redis for a second after a failure).
			for _, env := range []*apptest.Env{a, b} {
				email := newEmail("after")
				require.Eventually(t, func() bool {
					_, err := otpSend(ctx, env, w.org.ID, email)
					return err == nil
				}, 15*time.Second, 50*time.Millisecond, "sends resume without restarting authsvc")
			}
			// And share state again: a revocation on A reaches B through the healed deployment.
			require.Eventually(t, func() bool { return b.App.WaitRevocations(ctx) == nil }, 15*time.Second, 50*time.Millisecond)
			_, err = b2bv1.NewSessionsServiceClient(a.Conn).Revoke(ctx, &b2bv1.SessionsServiceRevokeRequest{
				Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT},
			})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return auth(b) != nil }, 15*time.Second, 10*time.Millisecond,
				"the revocation reached replica B after recovery")
		})
	}
}
