// Package webauthnkey is a software WebAuthn authenticator, with the browser's part of the
// ceremony: it answers the creation and request options a relying party sends (the JSON of
// navigator.credentials.create() and .get()) with the PublicKeyCredential JSON a browser would
// return. It builds everything itself, as a real authenticator does: the CBOR authenticator data
// and attestation object, the COSE public key, the clientDataJSON and the signatures, with an
// ES256 (P-256) or RS256 key it generates.
//
// It is for tests and local walk-throughs only (the consumer WebAuthn tests, the example
// authenticator under examples/webauthn-authenticator); it imports nothing from authsvc, so any
// package's tests can use it.
package webauthnkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Alg is a COSE signature algorithm.
type Alg int

// The algorithms the authenticator signs with.
const (
	ES256 Alg = -7   // ECDSA P-256 with SHA-256
	RS256 Alg = -257 // RSASSA-PKCS1-v1_5 with SHA-256
)

// Format is the attestation statement format of a registration.
type Format string

// Attestation formats: none, or packed self attestation (signed by the credential key itself).
const (
	FormatNone   Format = "none"
	FormatPacked Format = "packed"
)

// Authenticator flag bits (WebAuthn §6.1).
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagAT = 0x40 // attested credential data included
)

// credIDLen is the length of the credential IDs the authenticator makes.
const credIDLen = 32

// Options shape an authenticator.
type Options struct {
	// Format of the attestation; default FormatNone.
	Format Format
	// Attachment is "platform" or "cross-platform" (reported as authenticatorAttachment);
	// default "cross-platform".
	Attachment string
	// NoUserVerification leaves the UV flag unset (a security key without a PIN).
	NoUserVerification bool
}

// Authenticator holds one credential. It is safe for concurrent use.
type Authenticator struct {
	alg  Alg
	opts Options
	ec   *ecdsa.PrivateKey
	rsa  *rsa.PrivateKey

	mu         sync.Mutex
	credID     []byte
	userHandle []byte
	rpID       string
	signCount  uint32
}

// New generates a key for alg and a random 32-byte credential ID.
func New(alg Alg, opts Options) (*Authenticator, error) {
	a := &Authenticator{alg: alg, opts: opts, credID: make([]byte, credIDLen)}
	if a.opts.Format == "" {
		a.opts.Format = FormatNone
	}
	if a.opts.Attachment == "" {
		a.opts.Attachment = "cross-platform"
	}
	if _, err := rand.Read(a.credID); err != nil {
		return nil, err
	}
	var err error
	switch alg {
	case ES256:
		a.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		a.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("webauthnkey: unsupported algorithm %d", alg)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// CredentialID returns the credential ID.
func (a *Authenticator) CredentialID() []byte { return bytes.Clone(a.credID) }

// SetSignCount sets the signature counter; the next assertion carries n+1. Setting it back
// makes the authenticator look like a clone.
func (a *Authenticator) SetSignCount(n uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signCount = n
}

// SignCount returns the counter of the last signature.
func (a *Authenticator) SignCount() uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.signCount
}

// creationOptions is what Register reads of PublicKeyCredentialCreationOptions.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Alg int `json:"alg"`
	} `json:"pubKeyCredParams"`
}

// requestOptions is what Assert reads of PublicKeyCredentialRequestOptions.
type requestOptions struct {
	Challenge        string `json:"challenge"`
	RPID             string `json:"rpId"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

// unwrap accepts the options bare or inside {"publicKey": ...}.
func unwrap(optionsJSON string) []byte {
	var w struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if json.Unmarshal([]byte(optionsJSON), &w) == nil && len(w.PublicKey) > 0 {
		return w.PublicKey
	}
	return []byte(optionsJSON)
}

// decodeB64 reads base64url or standard base64, padded or not (relying parties send either).
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Register answers creation options at origin with a new credential, the JSON of a
// PublicKeyCredential with an AuthenticatorAttestationResponse.
func (a *Authenticator) Register(creationOptionsJSON, origin string) (string, error) {
	var o creationOptions
	if err := json.Unmarshal(unwrap(creationOptionsJSON), &o); err != nil {
		return "", fmt.Errorf("webauthnkey: creation options: %w", err)
	}
	if o.RP.ID == "" || o.Challenge == "" {
		return "", errors.New("webauthnkey: creation options lack rp.id or challenge")
	}
	if !a.offered(o) {
		return "", fmt.Errorf("webauthnkey: the relying party does not accept algorithm %d", a.alg)
	}
	challenge, err := decodeB64(o.Challenge)
	if err != nil {
		return "", fmt.Errorf("webauthnkey: challenge: %w", err)
	}
	handle, err := decodeB64(o.User.ID)
	if err != nil {
		return "", fmt.Errorf("webauthnkey: user.id: %w", err)
	}
	clientData, err := clientDataJSON("webauthn.create", challenge, origin)
	if err != nil {
		return "", err
	}
	coseKey, err := a.coseKey()
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.rpID, a.userHandle = o.RP.ID, handle
	count := a.signCount
	a.mu.Unlock()

	// Attested credential data: AAGUID (zero, as a software authenticator has no model), the
	// credential ID's length (a fixed 32 bytes) and the ID, then the COSE key.
	att := make([]byte, 16, 16+2+len(a.credID)+len(coseKey))
	att = append(att, 0, credIDLen)
	att = append(att, a.credID...)
	att = append(att, coseKey...)
	authData := a.authData(o.RP.ID, flagAT, count, att)

	stmt := map[string]any{}
	if a.opts.Format == FormatPacked {
		sig, err := a.sign(authData, clientData)
		if err != nil {
			return "", err
		}
		stmt = map[string]any{"alg": int(a.alg), "sig": sig}
	}
	attObj, err := encMode().Marshal(map[string]any{"fmt": string(a.opts.Format), "attStmt": stmt, "authData": authData})
	if err != nil {
		return "", err
	}
	return a.credentialJSON(map[string]any{
		"clientDataJSON":    b64(clientData),
		"attestationObject": b64(attObj),
		"transports":        a.transports(),
	})
}

func (a *Authenticator) offered(o creationOptions) bool {
	if len(o.PubKeyCredParams) == 0 {
		return true
	}
	for _, p := range o.PubKeyCredParams {
		if p.Alg == int(a.alg) {
			return true
		}
	}
	return false
}

// Assert answers request options at origin with a signed assertion, the JSON of a
// PublicKeyCredential with an AuthenticatorAssertionResponse. The signature counter goes up by
// one.
func (a *Authenticator) Assert(requestOptionsJSON, origin string) (string, error) {
	var o requestOptions
	if err := json.Unmarshal(unwrap(requestOptionsJSON), &o); err != nil {
		return "", fmt.Errorf("webauthnkey: request options: %w", err)
	}
	challenge, err := decodeB64(o.Challenge)
	if err != nil || len(challenge) == 0 {
		return "", errors.New("webauthnkey: request options lack a challenge")
	}
	if len(o.AllowCredentials) > 0 && !a.allowed(o) {
		return "", errors.New("webauthnkey: this credential is not among allowCredentials")
	}
	a.mu.Lock()
	rpID := o.RPID
	if rpID == "" {
		rpID = a.rpID
	}
	a.signCount++
	count, handle := a.signCount, a.userHandle
	a.mu.Unlock()
	clientData, err := clientDataJSON("webauthn.get", challenge, origin)
	if err != nil {
		return "", err
	}
	authData := a.authData(rpID, 0, count, nil)
	sig, err := a.sign(authData, clientData)
	if err != nil {
		return "", err
	}
	return a.credentialJSON(map[string]any{
		"clientDataJSON":    b64(clientData),
		"authenticatorData": b64(authData),
		"signature":         b64(sig),
		"userHandle":        b64(handle),
	})
}

func (a *Authenticator) allowed(o requestOptions) bool {
	for _, c := range o.AllowCredentials {
		if id, err := decodeB64(c.ID); err == nil && bytes.Equal(id, a.credID) {
			return true
		}
	}
	return false
}

func (a *Authenticator) transports() []string {
	if a.opts.Attachment == "platform" {
		return []string{"internal"}
	}
	return []string{"usb"}
}

func (a *Authenticator) credentialJSON(response map[string]any) (string, error) {
	b, err := json.Marshal(map[string]any{
		"id":                      b64(a.credID),
		"rawId":                   b64(a.credID),
		"type":                    "public-key",
		"authenticatorAttachment": a.opts.Attachment,
		"response":                response,
		"clientExtensionResults":  map[string]any{},
	})
	return string(b), err
}

func clientDataJSON(typ string, challenge []byte, origin string) ([]byte, error) {
	return json.Marshal(map[string]any{"type": typ, "challenge": b64(challenge), "origin": origin, "crossOrigin": false})
}

// authData is rpIdHash || flags || signCount || attested credential data (WebAuthn §6.1).
func (a *Authenticator) authData(rpID string, flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	flags |= flagUP
	if !a.opts.NoUserVerification {
		flags |= flagUV
	}
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

// sign signs authData || SHA-256(clientDataJSON), the message of both packed attestation and
// assertions. ES256 signatures are ASN.1 DER, as WebAuthn requires.
func (a *Authenticator) sign(authData, clientData []byte) ([]byte, error) {
	cdh := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(bytes.Clone(authData), cdh[:]...))
	if a.alg == ES256 {
		return ecdsa.SignASN1(rand.Reader, a.ec, digest[:])
	}
	return rsa.SignPKCS1v15(rand.Reader, a.rsa, crypto.SHA256, digest[:])
}

// coseKey is the credential public key as a COSE_Key (RFC 9053): EC2 on P-256 or RSA.
func (a *Authenticator) coseKey() ([]byte, error) {
	var key map[int]any
	if a.alg == ES256 {
		pub, err := a.ec.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, err
		}
		key = map[int]any{1: 2, 3: int(ES256), -1: 1, -2: pub[1:33], -3: pub[33:65]}
	} else {
		e := big.NewInt(int64(a.rsa.E)).Bytes()
		key = map[int]any{1: 3, 3: int(RS256), -1: a.rsa.N.Bytes(), -2: e}
	}
	return encMode().Marshal(key)
}

// encMode is CTAP2's canonical CBOR, which authenticators emit.
func encMode() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err) // the options are constant: an error is a programming mistake
	}
	return m
}

// state is an authenticator saved between processes (MarshalJSON, Load).
type state struct {
	Alg        Alg     `json:"alg"`
	Options    Options `json:"options"`
	PrivateKey []byte  `json:"private_key"` // PKCS #8
	CredID     []byte  `json:"credential_id"`
	UserHandle []byte  `json:"user_handle"`
	RPID       string  `json:"rp_id"`
	SignCount  uint32  `json:"sign_count"`
}

// MarshalJSON saves the authenticator, private key included, so that a later process (Load) can
// sign with the same credential: the example authenticator keeps it in a file between the
// register and the login of a walk-through. Test keys only.
func (a *Authenticator) MarshalJSON() ([]byte, error) {
	var key any = a.ec
	if a.alg == RS256 {
		key = a.rsa
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return json.Marshal(state{
		Alg: a.alg, Options: a.opts, PrivateKey: der, CredID: a.credID,
		UserHandle: a.userHandle, RPID: a.rpID, SignCount: a.signCount,
	})
}

// Load restores an authenticator saved with MarshalJSON.
func Load(data []byte) (*Authenticator, error) {
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("webauthnkey: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(s.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("webauthnkey: %w", err)
	}
	a := &Authenticator{alg: s.Alg, opts: s.Options, credID: s.CredID, userHandle: s.UserHandle, rpID: s.RPID, signCount: s.SignCount}
	var ok bool
	switch s.Alg {
	case ES256:
		a.ec, ok = key.(*ecdsa.PrivateKey)
	case RS256:
		a.rsa, ok = key.(*rsa.PrivateKey)
	}
	if !ok || len(a.credID) == 0 {
		return nil, errors.New("webauthnkey: the saved key does not match its algorithm")
	}
	return a, nil
}
