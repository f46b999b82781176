package stytchclient_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/testkit"
)

// TestConsumerCryptoWalletEndpoints signs in with generated Ethereum (SIWE) and Solana keys through
// the client, against a consumer-project emulator over real HTTP.
func TestConsumerCryptoWalletEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	c := h.client
	eth, err := testkit.NewEthereumWallet()
	require.NoError(t, err)
	sol, err := testkit.NewSolanaWallet()
	require.NoError(t, err)

	for _, w := range []testkit.Wallet{eth, sol} {
		t.Run(w.Type(), func(t *testing.T) {
			p := sc.ConsumerCryptoWalletStartParams{Type: w.Type(), Address: w.Address()}
			if w.Type() == "ethereum" {
				p.SIWEParams = &sc.SIWEParams{Domain: "shop.example", URI: "https://shop.example", Resources: []string{}, ChainID: "10"}
			}
			st, err := c.ConsumerCryptoWalletAuthenticateStart(ctx, p)
			require.NoError(t, err)
			assert.True(t, st.UserCreated)
			res, err := c.ConsumerCryptoWalletAuthenticate(ctx, sc.ConsumerCryptoWalletAuthenticateParams{
				Type: w.Type(), Address: w.Address(), Signature: w.Sign(st.Challenge), SessionDurationMinutes: 30,
			})
			require.NoError(t, err)
			assert.Equal(t, st.UserID, res.UserID)
			require.NotNil(t, res.Session)
			require.Len(t, res.Session.AuthenticationFactors, 1)
			f := res.Session.AuthenticationFactors[0]
			assert.Equal(t, "crypto", f.Type)
			require.NotNil(t, f.CryptoWalletFactor)
			assert.Equal(t, w.Address(), f.CryptoWalletFactor.CryptoWalletAddress)
			require.Len(t, res.User.CryptoWallets, 1)
			assert.True(t, res.User.CryptoWallets[0].Verified)
			if w.Type() == "ethereum" {
				require.NotNil(t, res.SIWEParams)
				assert.Equal(t, "10", res.SIWEParams.ChainID)
			}
			_, err = c.ConsumerCryptoWalletAuthenticate(ctx, sc.ConsumerCryptoWalletAuthenticateParams{Type: w.Type(), Address: w.Address(), Signature: w.Sign(st.Challenge)})
			requireStytchError(t, err, http.StatusUnauthorized, "unable_to_authenticate_crypto_wallet", codes.Unauthenticated)
		})
	}
	_, err = c.ConsumerCryptoWalletAuthenticateStart(ctx, sc.ConsumerCryptoWalletStartParams{Type: "bitcoin", Address: eth.Address()})
	requireStytchError(t, err, http.StatusBadRequest, "invalid_wallet_type", codes.InvalidArgument)
}
