package stytchemu

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey is one RS256 key with the self-signed certificate Stytch's JWK
// shape requires (x5c and x5tS256 are required fields in the spec).
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
	cert []byte // DER
}

// keyring holds the keys served in the JWKS. The last key signs; the others
// are still served so tokens they signed keep verifying (rotation overlap).
type keyring struct {
	keys []*signingKey
}

func newKeyring(now time.Time, priv *rsa.PrivateKey) (*keyring, error) {
	var k *signingKey
	var err error
	if priv != nil {
		k, err = keyFrom(priv, now)
	} else {
		k, err = newSigningKey(now)
	}
	if err != nil {
		return nil, err
	}
	return &keyring{keys: []*signingKey{k}}, nil
}

func newSigningKey(now time.Time) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("rsa key: %w", err)
	}
	return keyFrom(priv, now)
}

// keyFrom wraps priv; the kid is derived from the public key so a fixed key
// (WithSigningKey) gives a stable JWKS across restarts.
func keyFrom(priv *rsa.PrivateKey, now time.Time) (*signingKey, error) {
	sum := sha256.Sum256(priv.N.Bytes())
	h := hex.EncodeToString(sum[:16])
	kid := "jwk-test-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: kid},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	return &signingKey{kid: kid, priv: priv, cert: der}, nil
}

func (k *keyring) current() *signingKey { return k.keys[len(k.keys)-1] }

func (k *keyring) find(kid string) *signingKey {
	for _, s := range k.keys {
		if s.kid == kid {
			return s
		}
	}
	return nil
}

func (k *keyring) jwks() []obj {
	out := make([]obj, 0, len(k.keys))
	for _, s := range k.keys {
		sum := sha256.Sum256(s.cert)
		out = append(out, obj{
			"kty":     "RSA",
			"use":     "sig",
			"key_ops": []string{"verify"},
			"alg":     "RS256",
			"kid":     s.kid,
			"x5c":     []string{base64.StdEncoding.EncodeToString(s.cert)},
			"x5tS256": base64.RawURLEncoding.EncodeToString(sum[:]),
			"n":       base64.RawURLEncoding.EncodeToString(s.priv.N.Bytes()),
			"e":       base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.priv.E)).Bytes()),
		})
	}
	return out
}

// sign signs claims with the current key, kid in the header.
func (k *keyring) sign(claims jwt.MapClaims) (string, error) {
	cur := k.current()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = cur.kid
	s, err := t.SignedString(cur.priv)
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	return s, nil
}

var errUnknownKID = errors.New("unknown kid")

// parse verifies the signature (any served key) and returns the claims. It
// does not check expiry: sessions/authenticate accepts an expired JWT while
// the session lives. Issuer and audience are checked.
func (k *keyring) parse(token, projectID string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		s := k.find(kid)
		if s == nil {
			return nil, errUnknownKID
		}
		return &s.priv.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		// Expiry is the caller's business here; iss and aud are checked below
		// because skipping claims validation skips those too.
		jwt.WithoutClaimsValidation(),
	)
	if err != nil {
		return nil, fmt.Errorf("parse jwt: %w", err)
	}
	if iss, _ := claims.GetIssuer(); iss != "stytch.com/"+projectID {
		return nil, errors.New("parse jwt: wrong issuer")
	}
	aud, _ := claims.GetAudience()
	if !slices.Contains([]string(aud), projectID) {
		return nil, errors.New("parse jwt: wrong audience")
	}
	return claims, nil
}

// RotateKeys adds a new signing key. New JWTs are signed with it; the old
// keys stay in the JWKS (the overlap) until RetireOldKeys. It returns the new kid.
func (e *Emulator) RotateKeys() (string, error) {
	k, err := newSigningKey(e.clock.Now())
	if err != nil {
		return "", fmt.Errorf("stytchemu: rotate keys: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys.keys = append(e.keys.keys, k)
	return k.kid, nil
}

// RetireOldKeys ends the rotation overlap: only the current signing key is
// served afterwards, so JWTs signed by older keys stop verifying.
func (e *Emulator) RetireOldKeys() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys.keys = []*signingKey{e.keys.current()}
}

// KeyIDs returns the kids currently served in the JWKS, oldest first; the
// last one signs new tokens.
func (e *Emulator) KeyIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.keys.keys))
	for _, k := range e.keys.keys {
		out = append(out, k.kid)
	}
	return out
}
