package stytchemu

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/mr-tron/base58"
	"golang.org/x/crypto/sha3"
)

// Consumer crypto wallets (/v1/crypto_wallets/authenticate/start and
// /v1/crypto_wallets/authenticate): a wallet proves its address by signing a
// challenge, verified for real.
//
//   - Ethereum (and EVM chains): an EIP-191 personal_sign signature (65
//     bytes r || s || v, hex) over the challenge; the signer's secp256k1
//     public key is recovered from it (github.com/decred/dcrd/dcrec/secp256k1,
//     the curve library btcd and lnd use, small and without cgo) and its
//     address, the last 20 bytes of the Keccak-256 of the key
//     (golang.org/x/crypto/sha3), must be the wallet's address, compared
//     without regard to the EIP-55 letter case. With siwe_params the challenge
//     is an EIP-4361 Sign-In with Ethereum message; without, a plain one.
//   - Solana: an ed25519 signature (base58) over the challenge by the key
//     the address is (base58, 32 bytes), checked with the standard library.
//
// Start names the user to attach the wallet to (user_id or a session) or
// none: the wallet's owner, else a new user (user_created). The wallet joins
// the user's crypto_wallets unverified, and becomes verified at the first
// signature. A challenge is single use (any authenticate spends it) and
// expires after walletChallengeTTL; a new start replaces the live one.

const (
	walletEthereum     = "ethereum"
	walletSolana       = "solana"
	walletChallengeTTL = 10 * time.Minute

	errInvalidWalletType    = "invalid_wallet_type"
	errInvalidEthAddress    = "invalid_ethereum_address"
	errInvalidSolAddress    = "invalid_solana_address"
	errWalletSIWEType       = "crypto_wallet_type_incompatible_with_siwe"
	errDuplicateWallet      = "duplicate_wallet_address"
	errInvalidSignature     = "invalid_signature"
	errUnableToAuthWallet   = "unable_to_authenticate_crypto_wallet"
	errSIWENotValidYet      = "siwe_message_not_valid_yet"
	errInvalidSIWEDomain    = "invalid_siwe_domain"
	errInvalidSIWEURI       = "invalid_siwe_uri"
	errInvalidSIWEChainID   = "invalid_siwe_chain_id"
	errInvalidSIWEStatement = "invalid_siwe_statement"
	errInvalidSIWEResource  = "invalid_siwe_resource"
	errInvalidSIWERequestID = "invalid_siwe_message_request_id"
)

var (
	ethAddress   = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	ethSignature = regexp.MustCompile(`^0x[0-9a-fA-F]{130}$`)
	siweDomain   = regexp.MustCompile(`^[A-Za-z0-9.\-:\[\]@]+$`)
	// siweRequestID is RFC 3986 pchar: unreserved, pct-encoded, sub-delims, ":" and "@".
	siweRequestID = regexp.MustCompile(`^([A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$`)
)

type cryptoWalletFactor struct {
	CryptoWalletID      string `json:"crypto_wallet_id"`
	CryptoWalletAddress string `json:"crypto_wallet_address"`
	CryptoWalletType    string `json:"crypto_wallet_type"`
}

// walletChallenge is the live challenge of one wallet.
type walletChallenge struct {
	userID    string
	message   string
	expiresAt time.Time
	notBefore time.Time
	siwe      obj // the SIWE parameters as the authenticate response shows them; nil: plain
}

type siweParams struct {
	Domain           string   `json:"domain"`
	URI              string   `json:"uri"`
	Resources        []string `json:"resources"`
	ChainID          string   `json:"chain_id"`
	Statement        string   `json:"statement"`
	IssuedAt         string   `json:"issued_at"`
	NotBefore        string   `json:"not_before"`
	MessageRequestID string   `json:"message_request_id"`
}

// walletKey names a wallet: Ethereum addresses in any letter case are one
// wallet; Solana's base58 addresses are case-sensitive.
func walletKey(typ, addr string) string {
	if typ == walletEthereum {
		addr = strings.ToLower(addr)
	}
	return typ + ":" + addr
}

func checkWallet(typ, addr string) *apiError {
	switch typ {
	case walletEthereum:
		if !ethAddress.MatchString(addr) {
			return newErr(http.StatusBadRequest, errInvalidEthAddress, "crypto_wallet_address is not an Ethereum address.")
		}
	case walletSolana:
		if b, err := base58.Decode(addr); err != nil || len(b) != ed25519.PublicKeySize {
			return newErr(http.StatusBadRequest, errInvalidSolAddress, "crypto_wallet_address is not a Solana address.")
		}
	default:
		return newErr(http.StatusBadRequest, errInvalidWalletType, "crypto_wallet_type must be ethereum or solana.")
	}
	return nil
}

// walletOwner finds the user holding the wallet and its factor record.
func (e *Emulator) walletOwner(key string) (*user, obj) {
	for _, id := range e.cs.userOrder {
		u := e.cs.users[id]
		if u == nil {
			continue
		}
		for _, f := range u.factors {
			if f.kind != FactorCrypto {
				continue
			}
			typ, _ := f.wire["crypto_wallet_type"].(string)
			addr, _ := f.wire["crypto_wallet_address"].(string)
			if walletKey(typ, addr) == key {
				return u, f.wire
			}
		}
	}
	return nil, nil
}

// POST /v1/crypto_wallets/authenticate/start.
func (e *Emulator) walletAuthStart(rq *request) (any, error) {
	var in struct {
		Type         string      `json:"crypto_wallet_type"`
		Address      string      `json:"crypto_wallet_address"`
		UserID       string      `json:"user_id"`
		SessionToken string      `json:"session_token"`
		SessionJWT   string      `json:"session_jwt"`
		SIWE         *siweParams `json:"siwe_params"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkWallet(in.Type, in.Address); aerr != nil {
		return nil, aerr
	}
	if in.SIWE != nil && in.Type != walletEthereum {
		return nil, newErr(http.StatusBadRequest, errWalletSIWEType, "siwe_params may only be passed for ethereum wallets.")
	}
	if aerr := checkSessionArgs(userSessionArgs{SessionToken: in.SessionToken, SessionJWT: in.SessionJWT}); aerr != nil {
		return nil, aerr
	}
	target, aerr := e.walletTarget(in.UserID, in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	key := walletKey(in.Type, in.Address)
	owner, _ := e.walletOwner(key)
	if owner != nil && target != nil && owner != target {
		return nil, newErr(http.StatusBadRequest, errDuplicateWallet, "The crypto wallet belongs to another user.")
	}
	u, created := target, false
	switch {
	case u == nil && owner != nil:
		u = owner
	case u == nil:
		u = &user{id: "user-test-" + newUUID(), status: statusPending, createdAt: rq.now}
		e.cs.addUser(u)
		created = true
	}
	ch := &walletChallenge{userID: u.id, expiresAt: rq.now.Add(walletChallengeTTL)}
	if in.SIWE != nil {
		if aerr := ch.siweMessage(in.Address, *in.SIWE, rq.now); aerr != nil {
			return nil, aerr
		}
	} else {
		ch.message = fmt.Sprintf("Sign in to Stytch project %s with your %s wallet.\nNonce: %s", e.projectID, in.Type, randToken(24))
	}
	if owner == nil {
		id := "crypto-wallet-test-" + newUUID()
		u.factors = append(u.factors, seededFactor{kind: FactorCrypto, id: id, wire: obj{
			"crypto_wallet_id": id, "crypto_wallet_address": in.Address, "crypto_wallet_type": in.Type, "verified": false,
		}})
	}
	e.cs.walletChalls[key] = ch
	return obj{"user_id": u.id, "challenge": ch.message, "user_created": created}, nil
}

// walletTarget is the user start attaches the wallet to: the one user_id
// names, the session's, or nil when neither is given.
func (e *Emulator) walletTarget(userID, token, sessionJWT string, now time.Time) (*user, *apiError) {
	var u *user
	if userID != "" {
		if u = e.cs.findUser(userID); u == nil {
			return nil, userNotFound()
		}
	}
	if token == "" && sessionJWT == "" {
		return u, nil
	}
	ss, aerr := e.resolveUserSession(token, sessionJWT, now)
	if aerr != nil {
		return nil, aerr
	}
	if u != nil && ss.userID != u.id {
		return nil, badRequest("The session belongs to a different user.")
	}
	if u = e.cs.users[ss.userID]; u == nil {
		return nil, sessionNotFound()
	}
	return u, nil
}

// siweMessage builds the EIP-4361 message from the parameters, checked as
// Stytch checks them.
func (ch *walletChallenge) siweMessage(addr string, p siweParams, now time.Time) *apiError {
	if p.Domain == "" || !siweDomain.MatchString(p.Domain) {
		return newErr(http.StatusBadRequest, errInvalidSIWEDomain, "siwe_params.domain must be an RFC 3986 authority.")
	}
	if !absoluteURI(p.URI) {
		return newErr(http.StatusBadRequest, errInvalidSIWEURI, "siwe_params.uri must be an RFC 3986 URI.")
	}
	if p.ChainID == "" {
		p.ChainID = "1"
	}
	if n, err := strconv.ParseInt(p.ChainID, 10, 64); err != nil || n < 1 {
		return newErr(http.StatusBadRequest, errInvalidSIWEChainID, "siwe_params.chain_id must be a positive integer.")
	}
	if strings.ContainsAny(p.Statement, "\n\r\t") {
		return newErr(http.StatusBadRequest, errInvalidSIWEStatement, "siwe_params.statement must be one line.")
	}
	if p.MessageRequestID != "" && !siweRequestID.MatchString(p.MessageRequestID) {
		return newErr(http.StatusBadRequest, errInvalidSIWERequestID, "siwe_params.message_request_id must be RFC 3986 pchars.")
	}
	for _, r := range p.Resources {
		if !absoluteURI(r) {
			return newErr(http.StatusBadRequest, errInvalidSIWEResource, "siwe_params.resources must be RFC 3986 URIs.")
		}
	}
	issued, aerr := siweTime(p.IssuedAt, now, "issued_at")
	if aerr != nil {
		return aerr
	}
	notBefore, aerr := siweTime(p.NotBefore, now, "not_before")
	if aerr != nil {
		return aerr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants you to sign in with your Ethereum account:\n%s\n\n", p.Domain, eip55(addr))
	if p.Statement != "" {
		b.WriteString(p.Statement + "\n")
	}
	fmt.Fprintf(&b, "\nURI: %s\nVersion: 1\nChain ID: %s\nNonce: %s\nIssued At: %s", p.URI, p.ChainID, newSIWENonce(), rfc3339(issued))
	if p.NotBefore != "" {
		fmt.Fprintf(&b, "\nNot Before: %s", rfc3339(notBefore))
	}
	if p.MessageRequestID != "" {
		fmt.Fprintf(&b, "\nRequest ID: %s", p.MessageRequestID)
	}
	if len(p.Resources) > 0 {
		b.WriteString("\nResources:")
		for _, r := range p.Resources {
			b.WriteString("\n- " + r)
		}
	}
	resources := p.Resources
	if resources == nil {
		resources = []string{}
	}
	ch.message, ch.notBefore = b.String(), notBefore
	ch.siwe = obj{
		"domain": p.Domain, "uri": p.URI, "chain_id": p.ChainID, "resources": resources,
		"issued_at": rfc3339(issued), "message_request_id": p.MessageRequestID, "status_code": http.StatusOK,
	}
	return nil
}

func absoluteURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.ContainsAny(s, " \n\r\t")
}

func siweTime(s string, now time.Time, name string) (time.Time, *apiError) {
	if s == "" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest("siwe_params.%s must be an RFC 3339 time.", name)
	}
	return t, nil
}

// newSIWENonce is an EIP-4361 nonce: at least 8 alphanumeric characters.
func newSIWENonce() string {
	return strings.NewReplacer("-", "", "_", "").Replace(randToken(18))
}

// keccak256 is Ethereum's hash (the original Keccak padding, not SHA3-256's).
func keccak256(parts ...[]byte) []byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// eip55 writes an Ethereum address with its EIP-55 checksum letter case.
func eip55(addr string) string {
	lower := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(addr, "0x"), "0X"))
	sum := hex.EncodeToString(keccak256([]byte(lower)))
	out := []byte(lower)
	for i, c := range out {
		if c >= 'a' && c <= 'f' && sum[i] >= '8' {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out)
}

// ethereumSigner recovers the address that made an EIP-191 personal_sign
// signature over msg.
func ethereumSigner(msg, sigHex string) (string, *apiError) {
	if !ethSignature.MatchString(sigHex) {
		return "", newErr(http.StatusBadRequest, errInvalidSignature, "signature must be 65 bytes of hex.")
	}
	sig, _ := hex.DecodeString(sigHex[2:]) // the pattern admits hex only
	v := sig[64]
	if v >= 27 {
		v -= 27
	}
	if v > 1 {
		return "", newErr(http.StatusBadRequest, errInvalidSignature, "signature has an invalid recovery id.")
	}
	// decred's compact form is the recovery code (27 + id, uncompressed key) then r and s.
	compact := append([]byte{27 + v}, sig[:64]...)
	digest := keccak256([]byte(fmt.Sprintf("\x19Ethereum Signed Message:\n%d%s", len(msg), msg)))
	pub, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil {
		// No key signs to these bytes: whoever sent them does not hold the wallet.
		return "", walletAuthFailed("The signature is not the wallet's signature of the challenge.")
	}
	return "0x" + hex.EncodeToString(keccak256(pub.SerializeUncompressed()[1:])[12:]), nil
}

// walletSigned reports whether sig is the wallet's signature over msg.
func walletSigned(typ, addr, msg, sig string) (bool, *apiError) {
	if typ == walletEthereum {
		signer, aerr := ethereumSigner(msg, sig)
		if aerr != nil {
			return false, aerr
		}
		return strings.EqualFold(signer, addr), nil
	}
	raw, err := base58.Decode(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false, newErr(http.StatusBadRequest, errInvalidSignature, "signature must be a base58 ed25519 signature.")
	}
	pub, _ := base58.Decode(addr) // checked by checkWallet
	return ed25519.Verify(pub, []byte(msg), raw), nil
}

func walletAuthFailed(format string) *apiError {
	return newErr(http.StatusUnauthorized, errUnableToAuthWallet, "%s", format)
}

// POST /v1/crypto_wallets/authenticate.
func (e *Emulator) walletAuthenticate(rq *request) (any, error) {
	var in struct {
		Type      string `json:"crypto_wallet_type"`
		Address   string `json:"crypto_wallet_address"`
		Signature string `json:"signature"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkWallet(in.Type, in.Address); aerr != nil {
		return nil, aerr
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	key := walletKey(in.Type, in.Address)
	ch := e.cs.walletChalls[key]
	if ch == nil || !rq.now.Before(ch.expiresAt) {
		delete(e.cs.walletChalls, key)
		return nil, walletAuthFailed("No live challenge for this wallet: start again.")
	}
	u := e.cs.users[ch.userID]
	owner, wire := e.walletOwner(key)
	if u == nil || owner != u {
		delete(e.cs.walletChalls, key)
		return nil, walletAuthFailed("The crypto wallet could not be authenticated.")
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	delete(e.cs.walletChalls, key) // single use, whatever the outcome
	if rq.now.Before(ch.notBefore) {
		return nil, newErr(http.StatusBadRequest, errSIWENotValidYet, "The SIWE message is not valid yet.")
	}
	ok, aerr := walletSigned(in.Type, in.Address, ch.message, in.Signature)
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		return nil, walletAuthFailed("The signature is not the wallet's signature of the challenge.")
	}
	wire["verified"] = true
	id, _ := wire["crypto_wallet_id"].(string)
	addr, _ := wire["crypto_wallet_address"].(string)
	ts := rfc3339(rq.now)
	f := factor{
		Type: "crypto", DeliveryMethod: "crypto_wallet", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		CryptoWalletFactor: &cryptoWalletFactor{CryptoWalletID: id, CryptoWalletAddress: addr, CryptoWalletType: in.Type},
	}
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	if ch.siwe != nil {
		res["siwe_params"] = ch.siwe
	}
	return res, nil
}
