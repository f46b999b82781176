package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const walletsSvc = "/authsvc.consumer.v1.CryptoWalletsService/"

var walletTypeOf = map[string]consumerv1.CryptoWalletType{
	"ethereum": consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM,
	"solana":   consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_SOLANA,
}

func newTestWallets(t *testing.T) (eth, eth2 *testkit.EthereumWallet, sol, sol2 *testkit.SolanaWallet) {
	t.Helper()
	var err error
	eth, err = testkit.NewEthereumWallet()
	require.NoError(t, err)
	eth2, err = testkit.NewEthereumWallet()
	require.NoError(t, err)
	sol, err = testkit.NewSolanaWallet()
	require.NoError(t, err)
	sol2, err = testkit.NewSolanaWallet()
	require.NoError(t, err)
	return eth, eth2, sol, sol2
}

func (tr factorTransport) walletStart(t *testing.T, w testkit.Wallet, req *consumerv1.CryptoWalletsServiceAuthenticateStartRequest) *consumerv1.CryptoWalletsServiceAuthenticateStartResponse {
	t.Helper()
	if req == nil {
		req = &consumerv1.CryptoWalletsServiceAuthenticateStartRequest{}
	}
	req.CryptoWalletType, req.CryptoWalletAddress = walletTypeOf[w.Type()], w.Address()
	st := &consumerv1.CryptoWalletsServiceAuthenticateStartResponse{}
	code, reason := tr.call(t, "", walletsSvc+"AuthenticateStart", "/v1/crypto_wallets/authenticate/start", req, st)
	require.Equal(t, codes.OK, code, reason)
	return st
}

func (tr factorTransport) walletAuth(t *testing.T, w testkit.Wallet, sig string, resp *consumerv1.CryptoWalletsServiceAuthenticateResponse) (codes.Code, string) {
	t.Helper()
	return tr.call(t, "", walletsSvc+"Authenticate", "/v1/crypto_wallets/authenticate", &consumerv1.CryptoWalletsServiceAuthenticateRequest{
		CryptoWalletType: walletTypeOf[w.Type()], CryptoWalletAddress: w.Address(), Signature: sig, SessionDurationMinutes: proto.Int32(30),
	}, resp)
}

func TestConsumerCryptoWalletSignIn(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		eth, eth2, sol, sol2 := newTestWallets(t)
		for _, tc := range []struct {
			wallet, other testkit.Wallet
			siwe          *consumerv1.SIWEParams
		}{
			{eth, eth2, &consumerv1.SIWEParams{Domain: "shop.example", Uri: "https://shop.example/login", ChainId: "1", Statement: "Sign in to the shop."}},
			{sol, sol2, nil},
		} {
			t.Run(tc.wallet.Type(), func(t *testing.T) {
				st := tr.walletStart(t, tc.wallet, &consumerv1.CryptoWalletsServiceAuthenticateStartRequest{SiweParams: tc.siwe})
				assert.True(t, st.GetUserCreated())
				if tc.siwe != nil {
					assert.Contains(t, st.GetChallenge(), "shop.example wants you to sign in with your Ethereum account:\n"+tc.wallet.Address())
				}

				code, reason := tr.walletAuth(t, tc.wallet, tc.other.Sign(st.GetChallenge()), &consumerv1.CryptoWalletsServiceAuthenticateResponse{})
				assert.Equal(t, codes.Unauthenticated, code, "a signature by another key")
				assert.Equal(t, "unable_to_authenticate_crypto_wallet", reason)

				st = tr.walletStart(t, tc.wallet, nil)
				assert.False(t, st.GetUserCreated(), "the wallet's user from the first start")
				sig := tc.wallet.Sign(st.GetChallenge())
				auth := &consumerv1.CryptoWalletsServiceAuthenticateResponse{}
				code, reason = tr.walletAuth(t, tc.wallet, sig, auth)
				require.Equal(t, codes.OK, code, reason)
				assert.Equal(t, st.GetUserId(), auth.GetUserId())
				assert.NotEmpty(t, auth.GetSessionJwt())
				factors := auth.GetSession().GetAuthenticationFactors()
				require.Len(t, factors, 1)
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_CRYPTO, factors[0].GetType())
				assert.Equal(t, "crypto_wallet", factors[0].GetDeliveryMethod())
				assert.Equal(t, tc.wallet.Address(), factors[0].GetCryptoWalletFactor().GetCryptoWalletAddress())

				got := &consumerv1.UsersServiceGetResponse{}
				require.Equal(t, codes.OK, e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: auth.GetUserId()}, got).Code())
				require.Len(t, got.GetUser().GetCryptoWallets(), 1)
				cw := got.GetUser().GetCryptoWallets()[0]
				assert.True(t, cw.GetVerified())
				assert.Equal(t, tc.wallet.Type(), cw.GetCryptoWalletType())

				code, reason = tr.walletAuth(t, tc.wallet, sig, auth)
				assert.Equal(t, codes.Unauthenticated, code, "a replayed challenge")
				assert.Equal(t, "unable_to_authenticate_crypto_wallet", reason)

				// Users.DeleteCryptoWallet works on it.
				del := &consumerv1.UsersServiceDeleteCryptoWalletResponse{}
				require.Equal(t, codes.OK, e.grpcSvc(t, usersSvc+"DeleteCryptoWallet", &consumerv1.UsersServiceDeleteCryptoWalletRequest{CryptoWalletId: cw.GetCryptoWalletId()}, del).Code())
				assert.Empty(t, del.GetUser().GetCryptoWallets())
			})
		}
	})
}

func TestConsumerCryptoWalletAttachToSession(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		eth, _, _, _ := newTestWallets(t)
		u := e.user(t, stytchemu.UserParams{})
		ses := e.userSession(t, u.ID)
		st := tr.walletStart(t, eth, &consumerv1.CryptoWalletsServiceAuthenticateStartRequest{
			Session: &consumerv1.CryptoWalletsServiceAuthenticateStartRequest_SessionToken{SessionToken: ses.Token},
		})
		assert.Equal(t, u.ID, st.GetUserId())
		assert.False(t, st.GetUserCreated())
		auth := &consumerv1.CryptoWalletsServiceAuthenticateResponse{}
		code, reason := tr.call(t, "", walletsSvc+"Authenticate", "/v1/crypto_wallets/authenticate", &consumerv1.CryptoWalletsServiceAuthenticateRequest{
			CryptoWalletType: consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM, CryptoWalletAddress: eth.Address(), Signature: eth.Sign(st.GetChallenge()),
			Session: &consumerv1.CryptoWalletsServiceAuthenticateRequest_SessionToken{SessionToken: ses.Token},
		}, auth)
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, ses.Token, auth.GetSessionToken(), "the factor joins the session")
		assert.Len(t, auth.GetUser().GetCryptoWallets(), 1)
	})
}

// Failed signatures from one IP spend the per-IP failure budget; the next attempt is refused
// before Stytch. Each factorTransport gets its own authsvc: both come from the same loopback address.
func TestConsumerCryptoWalletFailuresRefusedBeforeStytch(t *testing.T) {
	for _, rest := range []bool{false, true} {
		e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_ip=3/10m"}))
		tr := factorTransport{e: e, rest: rest}
		t.Run(tr.String(), func(t *testing.T) {
			eth, other, _, _ := newTestWallets(t)
			for i := range 3 {
				st := tr.walletStart(t, eth, nil)
				code, reason := tr.walletAuth(t, eth, other.Sign(st.GetChallenge()), &consumerv1.CryptoWalletsServiceAuthenticateResponse{})
				require.Equal(t, codes.Unauthenticated, code, "attempt %d: %s", i+1, reason)
			}
			st := tr.walletStart(t, eth, nil)
			before := e.consumer(t).Requests("POST /v1/crypto_wallets/authenticate")
			code, reason := tr.walletAuth(t, eth, eth.Sign(st.GetChallenge()), &consumerv1.CryptoWalletsServiceAuthenticateResponse{})
			assert.Equal(t, codes.ResourceExhausted, code, reason)
			assert.Equal(t, before, e.consumer(t).Requests("POST /v1/crypto_wallets/authenticate"), "refused before Stytch")
		})
	}
}
