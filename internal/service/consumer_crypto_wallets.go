package service

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// CryptoWallets implements consumerv1.CryptoWalletsServiceServer on a consumer project's client.
type CryptoWallets struct {
	consumerv1.UnimplementedCryptoWalletsServiceServer
	base
	stytch *stytchclient.Client
}

var _ consumerv1.CryptoWalletsServiceServer = (*CryptoWallets)(nil)

// NewCryptoWallets returns the CryptoWalletsService; stytch is the consumer project's client.
func NewCryptoWallets(stytch *stytchclient.Client, log *slog.Logger) *CryptoWallets {
	return &CryptoWallets{base: newBase(log), stytch: stytch}
}

var walletTypes = map[consumerv1.CryptoWalletType]string{
	consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM: "ethereum",
	consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_SOLANA:   "solana",
}

// failWallet answers every rejected signature alike (another key, a spent or expired challenge).
var failWallet = &authFailure{
	reason: "unable_to_authenticate_crypto_wallet", message: "the crypto wallet signature could not be verified",
	types: []string{"unable_to_authenticate_crypto_wallet"},
}

// AuthenticateStart returns the challenge a wallet must sign.
func (s *CryptoWallets) AuthenticateStart(ctx context.Context, req *consumerv1.CryptoWalletsServiceAuthenticateStartRequest) (*consumerv1.CryptoWalletsServiceAuthenticateStartResponse, error) {
	res, err := s.stytch.ConsumerCryptoWalletAuthenticateStart(ctx, stytchclient.ConsumerCryptoWalletStartParams{
		Type:         walletTypes[req.GetCryptoWalletType()],
		Address:      req.GetCryptoWalletAddress(),
		SessionToken: req.GetSessionToken(),
		SessionJWT:   req.GetSessionJwt(),
		SIWEParams:   fromSIWE(req.GetSiweParams()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	return &consumerv1.CryptoWalletsServiceAuthenticateStartResponse{UserId: res.UserID, Challenge: res.Challenge, UserCreated: res.UserCreated}, nil
}

// Authenticate checks the wallet's signature of its challenge.
func (s *CryptoWallets) Authenticate(ctx context.Context, req *consumerv1.CryptoWalletsServiceAuthenticateRequest) (*consumerv1.CryptoWalletsServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerCryptoWalletAuthenticate(ctx, stytchclient.ConsumerCryptoWalletAuthenticateParams{
		Type:                   walletTypes[req.GetCryptoWalletType()],
		Address:                req.GetCryptoWalletAddress(),
		Signature:              req.GetSignature(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failWallet)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	out := &consumerv1.CryptoWalletsServiceAuthenticateResponse{
		UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}
	if p := res.SIWEParams; p != nil {
		out.SiweParams = &consumerv1.SIWEParamsResult{
			Domain: p.Domain, Uri: p.URI, ChainId: p.ChainID, Resources: p.Resources, IssuedAt: ts(p.IssuedAt), MessageRequestId: p.MessageRequestID,
		}
	}
	return out, nil
}

func fromSIWE(p *consumerv1.SIWEParams) *stytchclient.SIWEParams {
	if p == nil {
		return nil
	}
	resources := p.GetResources()
	if resources == nil {
		resources = []string{} // Stytch's schema requires the array
	}
	return &stytchclient.SIWEParams{
		Domain: p.GetDomain(), URI: p.GetUri(), Resources: resources, ChainID: p.GetChainId(), Statement: p.GetStatement(),
		IssuedAt: rfc3339Of(p.GetIssuedAt()), NotBefore: rfc3339Of(p.GetNotBefore()), MessageRequestID: p.GetMessageRequestId(),
	}
}

// rfc3339Of is t in Stytch's time format; empty when unset (Stytch's default then applies).
func rfc3339Of(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}
