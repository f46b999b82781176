package webauthnkey_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/testkit/webauthnkey"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	creation = `{"challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","rp":{"id":"example.com","name":"x"},"user":{"id":"dXNlci0x"}}`
	request  = `{"challenge":"HxwdHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA","rpId":"example.com"}`
	origin   = "https://example.com"
)

// The attestation a registration returns parses as WebAuthn (go-webauthn's parser), and an
// assertion by the authenticator, saved and loaded again in between, verifies with the public key
// registered: the saved state keeps the credential, the key and the counter.
func TestRegisterThenAssertAfterReload(t *testing.T) {
	for name, alg := range map[string]webauthnkey.Alg{"ES256": webauthnkey.ES256, "RS256": webauthnkey.RS256} {
		t.Run(name, func(t *testing.T) {
			a, err := webauthnkey.New(alg, webauthnkey.Options{Format: webauthnkey.FormatPacked})
			require.NoError(t, err)
			cred, err := a.Register(creation, origin)
			require.NoError(t, err)
			reg, err := protocol.ParseCredentialCreationResponseBytes([]byte(cred))
			require.NoError(t, err)
			assert.Equal(t, "packed", reg.Response.AttestationObject.Format)
			pub, err := webauthncose.ParsePublicKey(reg.Response.AttestationObject.AuthData.AttData.CredentialPublicKey)
			require.NoError(t, err)

			saved, err := json.Marshal(a)
			require.NoError(t, err)
			b, err := webauthnkey.Load(saved)
			require.NoError(t, err)
			assertion, err := b.Assert(request, origin)
			require.NoError(t, err)
			got, err := protocol.ParseCredentialRequestResponseBytes([]byte(assertion))
			require.NoError(t, err)
			assert.Equal(t, a.CredentialID(), got.RawID)
			assert.Equal(t, []byte("user-1"), got.Response.UserHandle)
			assert.Equal(t, uint32(1), got.Response.AuthenticatorData.Counter)

			cdh := sha256.Sum256(got.Raw.AssertionResponse.ClientDataJSON)
			signed := append([]byte(got.Raw.AssertionResponse.AuthenticatorData), cdh[:]...)
			ok, err := webauthncose.VerifySignature(pub, signed, got.Response.Signature)
			require.NoError(t, err)
			assert.True(t, ok, "the assertion verifies with the registered key")
			signed[len(signed)-1] ^= 1
			ok, _ = webauthncose.VerifySignature(pub, signed, got.Response.Signature)
			assert.False(t, ok, "and not over other data")
		})
	}
}

// The authenticator refuses what a real one refuses: an algorithm the relying party did not offer,
// a login that does not list its credential.
func TestRefusals(t *testing.T) {
	a, err := webauthnkey.New(webauthnkey.ES256, webauthnkey.Options{})
	require.NoError(t, err)
	_, err = a.Register(`{"challenge":"AAEC","rp":{"id":"example.com"},"user":{"id":"dQ"},"pubKeyCredParams":[{"type":"public-key","alg":-257}]}`, origin)
	require.Error(t, err)
	_, err = a.Assert(`{"challenge":"AAEC","rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AAAA"}]}`, origin)
	require.Error(t, err)
	_, err = webauthnkey.New(webauthnkey.Alg(-8), webauthnkey.Options{})
	require.Error(t, err)
}
