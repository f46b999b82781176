package stytchemu_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/testkit"
)

func newWallets(t *testing.T) (eth, eth2 *testkit.EthereumWallet, sol *testkit.SolanaWallet) {
	t.Helper()
	var err error
	eth, err = testkit.NewEthereumWallet()
	require.NoError(t, err)
	eth2, err = testkit.NewEthereumWallet()
	require.NoError(t, err)
	sol, err = testkit.NewSolanaWallet()
	require.NoError(t, err)
	return eth, eth2, sol
}

func walletStart(w *cworld, wl testkit.Wallet, extra map[string]any) response {
	body := map[string]any{"crypto_wallet_type": wl.Type(), "crypto_wallet_address": wl.Address()}
	for k, v := range extra {
		body[k] = v
	}
	return w.h.do(post("/v1/crypto_wallets/authenticate/start", body))
}

func walletAuth(w *cworld, wl testkit.Wallet, sig string, extra map[string]any) response {
	body := map[string]any{"crypto_wallet_type": wl.Type(), "crypto_wallet_address": wl.Address(), "signature": sig}
	for k, v := range extra {
		body[k] = v
	}
	return w.h.do(post("/v1/crypto_wallets/authenticate", body))
}

func TestConsumerCryptoWalletSignIn(t *testing.T) {
	eth, _, sol := newWallets(t)
	siwe := map[string]any{
		"domain": "shop.example", "uri": "https://shop.example/login", "chain_id": "137",
		"statement": "Sign in to the shop.", "message_request_id": "req-1", "resources": []string{"https://shop.example/terms"},
	}
	for _, tc := range []struct {
		wallet testkit.Wallet
		extra  map[string]any
		want   []string
	}{
		{eth, map[string]any{"siwe_params": siwe}, []string{
			"shop.example wants you to sign in with your Ethereum account:\n" + eth.Address() + "\n\nSign in to the shop.\n\nURI: https://shop.example/login\nVersion: 1\nChain ID: 137\nNonce: ",
			"\nIssued At: 2", "\nRequest ID: req-1\nResources:\n- https://shop.example/terms",
		}},
		{eth, nil, []string{"Nonce: "}},
		{sol, nil, []string{"Nonce: "}},
	} {
		t.Run(tc.wallet.Type(), func(t *testing.T) {
			w := newConsumerWorld(t)
			st := walletStart(w, tc.wallet, tc.extra)
			require.Equal(t, http.StatusOK, st.status, "%s", st.raw)
			assert.Equal(t, true, st.body["user_created"])
			challenge := st.str("challenge")
			for _, s := range tc.want {
				assert.Contains(t, challenge, s)
			}
			u := w.getUser(t, st.str("user_id"))
			wallets, _ := u.body["crypto_wallets"].([]any)
			require.Len(t, wallets, 1)
			cw, _ := wallets[0].(map[string]any)
			assert.Equal(t, false, cw["verified"], "unverified until signed")

			r := walletAuth(w, tc.wallet, tc.wallet.Sign(challenge), map[string]any{"session_duration_minutes": 60})
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.Equal(t, st.str("user_id"), r.str("user_id"))
			factors, _ := r.obj("session")["authentication_factors"].([]any)
			require.Len(t, factors, 1)
			f, _ := factors[0].(map[string]any)
			assert.Equal(t, "crypto", f["type"])
			assert.Equal(t, "crypto_wallet", f["delivery_method"])
			assert.Equal(t, map[string]any{
				"crypto_wallet_id": cw["crypto_wallet_id"], "crypto_wallet_address": tc.wallet.Address(), "crypto_wallet_type": tc.wallet.Type(),
			}, f["crypto_wallet_factor"])
			if tc.extra != nil {
				assert.Equal(t, "137", r.obj("siwe_params")["chain_id"])
			}
			wallets, _ = r.obj("user")["crypto_wallets"].([]any)
			cw, _ = wallets[0].(map[string]any)
			assert.Equal(t, true, cw["verified"])

			again := walletAuth(w, tc.wallet, tc.wallet.Sign(challenge), nil)
			assert.Equal(t, http.StatusUnauthorized, again.status, "a challenge is single use")
			assert.Equal(t, "unable_to_authenticate_crypto_wallet", again.str("error_type"))

			// The same wallet signs in again as the same user.
			st2 := walletStart(w, tc.wallet, nil)
			assert.Equal(t, false, st2.body["user_created"])
			assert.Equal(t, st.str("user_id"), st2.str("user_id"))
		})
	}
}

func TestConsumerCryptoWalletRefusals(t *testing.T) {
	eth, other, sol := newWallets(t)
	t.Run("a signature by another key", func(t *testing.T) {
		w := newConsumerWorld(t)
		st := walletStart(w, eth, nil)
		r := walletAuth(w, eth, other.Sign(st.str("challenge")), nil)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, "unable_to_authenticate_crypto_wallet", r.str("error_type"))
		r = walletAuth(w, eth, eth.Sign(st.str("challenge")), nil)
		assert.Equal(t, http.StatusUnauthorized, r.status, "a failed attempt spends the challenge too")
	})
	t.Run("an Ethereum address in another letter case is the same wallet", func(t *testing.T) {
		w := newConsumerWorld(t)
		st := w.h.do(post("/v1/crypto_wallets/authenticate/start", map[string]any{"crypto_wallet_type": "ethereum", "crypto_wallet_address": strings.ToLower(eth.Address())}))
		require.Equal(t, http.StatusOK, st.status, "%s", st.raw)
		r := walletAuth(w, eth, eth.Sign(st.str("challenge")), nil)
		assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	})
	t.Run("a Solana signature by another key", func(t *testing.T) {
		w := newConsumerWorld(t)
		_, _, sol2 := newWallets(t)
		st := walletStart(w, sol, nil)
		r := walletAuth(w, sol, sol2.Sign(st.str("challenge")), nil)
		assert.Equal(t, "unable_to_authenticate_crypto_wallet", r.str("error_type"))
	})
	t.Run("an expired challenge", func(t *testing.T) {
		w := newConsumerWorld(t)
		st := walletStart(w, sol, nil)
		w.h.emu.Advance(11 * time.Minute)
		r := walletAuth(w, sol, sol.Sign(st.str("challenge")), nil)
		assert.Equal(t, "unable_to_authenticate_crypto_wallet", r.str("error_type"))
	})
	t.Run("attach to a session's user", func(t *testing.T) {
		w := newConsumerWorld(t)
		st := walletStart(w, eth, map[string]any{"session_token": w.aliceSes.Token})
		require.Equal(t, http.StatusOK, st.status, "%s", st.raw)
		assert.Equal(t, w.alice.ID, st.str("user_id"))
		assert.Equal(t, false, st.body["user_created"])
		r := walletAuth(w, eth, eth.Sign(st.str("challenge")), map[string]any{"session_token": w.aliceSes.Token})
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.Equal(t, w.aliceSes.Token, r.str("session_token"))
		taken := walletStart(w, eth, map[string]any{"user_id": w.bob.ID})
		assert.Equal(t, "duplicate_wallet_address", taken.str("error_type"), "a wallet belongs to one user")
	})
	runConsumerCases(t, []cCase{
		{"an unknown wallet type", func(_ *testing.T, _ *cworld) call {
			return post("/v1/crypto_wallets/authenticate/start", map[string]any{"crypto_wallet_type": "bitcoin", "crypto_wallet_address": eth.Address()})
		}, http.StatusBadRequest, "invalid_wallet_type", nil},
		{"a malformed Ethereum address", func(_ *testing.T, _ *cworld) call {
			return post("/v1/crypto_wallets/authenticate/start", map[string]any{"crypto_wallet_type": "ethereum", "crypto_wallet_address": "0x1234"})
		}, http.StatusBadRequest, "invalid_ethereum_address", nil},
		{"SIWE for Solana", func(_ *testing.T, _ *cworld) call {
			return post("/v1/crypto_wallets/authenticate/start", map[string]any{
				"crypto_wallet_type": "solana", "crypto_wallet_address": sol.Address(), "siwe_params": map[string]any{"domain": "a.example", "uri": "https://a.example"},
			})
		}, http.StatusBadRequest, "crypto_wallet_type_incompatible_with_siwe", nil},
		{"a SIWE statement on two lines", func(_ *testing.T, _ *cworld) call {
			return post("/v1/crypto_wallets/authenticate/start", map[string]any{
				"crypto_wallet_type": "ethereum", "crypto_wallet_address": eth.Address(),
				"siwe_params": map[string]any{"domain": "a.example", "uri": "https://a.example", "statement": "one\ntwo"},
			})
		}, http.StatusBadRequest, "invalid_siwe_statement", nil},
		{"a malformed signature", func(_ *testing.T, w *cworld) call {
			walletStart(w, eth, nil)
			return post("/v1/crypto_wallets/authenticate", map[string]any{"crypto_wallet_type": "ethereum", "crypto_wallet_address": eth.Address(), "signature": "0xdead"})
		}, http.StatusBadRequest, "invalid_signature", nil},
	})
}
