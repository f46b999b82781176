package stytchclient

import "context"

// Consumer crypto wallets (/v1/crypto_wallets/...). Session credentials travel only in bodies,
// which the client never logs, records in spans or quotes in errors (request.go).

// SIWEParams are the parameters of an EIP-4361 Sign-In with Ethereum message. Times are RFC 3339;
// empty ones are Stytch's default (now).
type SIWEParams struct {
	Domain           string   `json:"domain"`
	URI              string   `json:"uri"`
	Resources        []string `json:"resources"`
	ChainID          string   `json:"chain_id,omitempty"`
	Statement        string   `json:"statement,omitempty"`
	IssuedAt         string   `json:"issued_at,omitempty"`
	NotBefore        string   `json:"not_before,omitempty"`
	MessageRequestID string   `json:"message_request_id,omitempty"`
}

// ConsumerCryptoWalletStartParams for POST /v1/crypto_wallets/authenticate/start. Type is
// "ethereum" or "solana". UserID, SessionToken or SessionJWT name the user to attach the wallet
// to; none: the wallet's user, or a new one.
type ConsumerCryptoWalletStartParams struct {
	Type         string      `json:"crypto_wallet_type"`
	Address      string      `json:"crypto_wallet_address"`
	UserID       string      `json:"user_id,omitempty"`
	SessionToken string      `json:"session_token,omitempty"`
	SessionJWT   string      `json:"session_jwt,omitempty"`
	SIWEParams   *SIWEParams `json:"siwe_params,omitempty"`
}

// ConsumerCryptoWalletStartResult is the challenge to sign and the wallet's user.
type ConsumerCryptoWalletStartResult struct {
	Envelope
	UserID      string `json:"user_id"`
	Challenge   string `json:"challenge"`
	UserCreated bool   `json:"user_created"`
}

// ConsumerCryptoWalletAuthenticateStart returns the challenge a wallet must sign. Never retried
// once written: it may create a user, and a retry replaces the challenge.
func (c *Client) ConsumerCryptoWalletAuthenticateStart(ctx context.Context, p ConsumerCryptoWalletStartParams) (*ConsumerCryptoWalletStartResult, error) {
	var out ConsumerCryptoWalletStartResult
	err := c.do(ctx, call{endpoint: "POST /v1/crypto_wallets/authenticate/start", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerCryptoWalletAuthenticateParams for POST /v1/crypto_wallets/authenticate; session
// fields as in ConsumerTOTPAuthenticateParams.
type ConsumerCryptoWalletAuthenticateParams struct {
	Type                   string   `json:"crypto_wallet_type"`
	Address                string   `json:"crypto_wallet_address"`
	Signature              string   `json:"signature"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// SIWEParamsResult are the parameters of the SIWE message that was signed.
type SIWEParamsResult struct {
	Domain           string    `json:"domain"`
	URI              string    `json:"uri"`
	ChainID          string    `json:"chain_id"`
	Resources        []string  `json:"resources"`
	IssuedAt         Timestamp `json:"issued_at"`
	MessageRequestID string    `json:"message_request_id"`
}

// ConsumerCryptoWalletAuthenticateResult is the session part and, for a SIWE challenge, its
// parameters.
type ConsumerCryptoWalletAuthenticateResult struct {
	ConsumerSessionResult
	SIWEParams *SIWEParamsResult `json:"siwe_params,omitempty"`
}

// ConsumerCryptoWalletAuthenticate checks the wallet's signature of its challenge: a signature by
// another key, a spent or expired challenge is 401 unable_to_authenticate_crypto_wallet, a
// malformed signature 400 invalid_signature. Never retried once written: the challenge is single
// use.
func (c *Client) ConsumerCryptoWalletAuthenticate(ctx context.Context, p ConsumerCryptoWalletAuthenticateParams) (*ConsumerCryptoWalletAuthenticateResult, error) {
	var out ConsumerCryptoWalletAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/crypto_wallets/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}
