package service

import (
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Conversions of the consumer API (authsvc.consumer.v1), on the shared helpers of convert.go (ts,
// toStruct, fromStruct) and the tables of enums.go. Like those, they copy and never fail.

func toUser(u *stytchclient.User) *consumerv1.User {
	if u == nil || u.UserID == "" {
		return nil
	}
	out := &consumerv1.User{
		UserId:            u.UserID,
		Status:            userStatuses.value(u.Status),
		IsLocked:          u.IsLocked,
		Roles:             u.Roles,
		Name:              toName(u.Name),
		CreatedAt:         ts(u.CreatedAt),
		TrustedMetadata:   toStruct(u.TrustedMetadata),
		UntrustedMetadata: toStruct(u.UntrustedMetadata),
		ExternalId:        u.ExternalID,
		LockCreatedAt:     ts(u.LockCreatedAt),
		LockExpiresAt:     ts(u.LockExpiresAt),
	}
	for _, e := range u.Emails {
		out.Emails = append(out.Emails, &consumerv1.Email{EmailId: e.EmailID, Email: e.Email, Verified: e.Verified})
	}
	for _, p := range u.PhoneNumbers {
		out.PhoneNumbers = append(out.PhoneNumbers, &consumerv1.PhoneNumber{PhoneId: p.PhoneID, PhoneNumber: p.PhoneNumber, Verified: p.Verified})
	}
	for _, w := range u.WebAuthnRegistrations {
		out.WebauthnRegistrations = append(out.WebauthnRegistrations, &consumerv1.WebAuthnRegistration{
			WebauthnRegistrationId: w.WebAuthnRegistrationID, Domain: w.Domain, UserAgent: w.UserAgent, Verified: w.Verified,
			AuthenticatorType: w.AuthenticatorType, Name: w.Name,
		})
	}
	for _, p := range u.Providers {
		out.Providers = append(out.Providers, &consumerv1.OAuthProvider{
			ProviderType: p.ProviderType, ProviderSubject: p.ProviderSubject, ProfilePictureUrl: p.ProfilePictureURL,
			Locale: p.Locale, OauthUserRegistrationId: p.OAuthUserRegistrationID,
		})
	}
	for _, t := range u.TOTPs {
		out.Totps = append(out.Totps, &consumerv1.TOTP{TotpId: t.TOTPID, Verified: t.Verified})
	}
	for _, c := range u.CryptoWallets {
		out.CryptoWallets = append(out.CryptoWallets, &consumerv1.CryptoWallet{
			CryptoWalletId: c.CryptoWalletID, CryptoWalletAddress: c.CryptoWalletAddress, CryptoWalletType: c.CryptoWalletType, Verified: c.Verified,
		})
	}
	for _, b := range u.BiometricRegistrations {
		out.BiometricRegistrations = append(out.BiometricRegistrations, &consumerv1.BiometricRegistration{
			BiometricRegistrationId: b.BiometricRegistrationID, Verified: b.Verified,
		})
	}
	if p := u.Password; p != nil && p.PasswordID != "" {
		out.Password = &consumerv1.Password{PasswordId: p.PasswordID, RequiresReset: p.RequiresReset}
	}
	return out
}

func toName(n *stytchclient.UserName) *consumerv1.Name {
	if n == nil || (n.FirstName == "" && n.MiddleName == "" && n.LastName == "") {
		return nil
	}
	return &consumerv1.Name{FirstName: n.FirstName, MiddleName: n.MiddleName, LastName: n.LastName}
}

// fromName converts a request's name: nil stays nil (not sent).
func fromName(n *consumerv1.Name) *stytchclient.UserName {
	if n == nil {
		return nil
	}
	return &stytchclient.UserName{FirstName: n.GetFirstName(), MiddleName: n.GetMiddleName(), LastName: n.GetLastName()}
}

func toUserSession(s *stytchclient.UserSession) *consumerv1.Session {
	if s == nil || s.SessionID == "" {
		return nil
	}
	out := &consumerv1.Session{
		SessionId:      s.SessionID,
		UserId:         s.UserID,
		StartedAt:      ts(s.StartedAt),
		LastAccessedAt: ts(s.LastAccessedAt),
		ExpiresAt:      ts(s.ExpiresAt),
		Roles:          s.Roles,
		CustomClaims:   toStruct(s.CustomClaims),
	}
	for i := range s.AuthenticationFactors {
		out.AuthenticationFactors = append(out.AuthenticationFactors, toUserFactor(&s.AuthenticationFactors[i]))
	}
	return out
}

// toUserFactor converts a consumer session factor. Every OAuth provider becomes oauth_factor (the
// provider is in delivery_method).
func toUserFactor(f *stytchclient.UserAuthenticationFactor) *consumerv1.AuthenticationFactor {
	out := &consumerv1.AuthenticationFactor{
		Type:                userFactorTypes.value(f.Type),
		DeliveryMethod:      f.DeliveryMethod,
		LastAuthenticatedAt: ts(f.LastAuthenticatedAt),
		CreatedAt:           ts(f.CreatedAt),
		UpdatedAt:           ts(f.UpdatedAt),
	}
	oauth := func(o *stytchclient.OAuthFactor) *consumerv1.AuthenticationFactor_OauthFactor {
		return &consumerv1.AuthenticationFactor_OauthFactor{OauthFactor: &consumerv1.OAuthFactor{Id: o.ID, ProviderSubject: o.ProviderSubject, EmailId: o.EmailID}}
	}
	switch {
	case f.EmailFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_EmailFactor{EmailFactor: &consumerv1.EmailFactor{EmailId: f.EmailFactor.EmailID, EmailAddress: f.EmailFactor.EmailAddress}}
	case f.PhoneNumberFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_PhoneNumberFactor{PhoneNumberFactor: &consumerv1.PhoneNumberFactor{
			PhoneId: f.PhoneNumberFactor.PhoneID, PhoneNumber: f.PhoneNumberFactor.PhoneNumber,
		}}
	case f.AuthenticatorAppFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_AuthenticatorAppFactor{AuthenticatorAppFactor: &consumerv1.AuthenticatorAppFactor{TotpId: f.AuthenticatorAppFactor.TOTPID}}
	case f.RecoveryCodeFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_RecoveryCodeFactor{RecoveryCodeFactor: &consumerv1.RecoveryCodeFactor{
			TotpRecoveryCodeId: f.RecoveryCodeFactor.TOTPRecoveryCodeID,
		}}
	case f.WebAuthnFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_WebauthnFactor{WebauthnFactor: &consumerv1.WebAuthnFactor{
			WebauthnRegistrationId: f.WebAuthnFactor.WebAuthnRegistrationID, Domain: f.WebAuthnFactor.Domain, UserAgent: f.WebAuthnFactor.UserAgent,
		}}
	case f.CryptoWalletFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_CryptoWalletFactor{CryptoWalletFactor: &consumerv1.CryptoWalletFactor{
			CryptoWalletId: f.CryptoWalletFactor.CryptoWalletID, CryptoWalletAddress: f.CryptoWalletFactor.CryptoWalletAddress,
			CryptoWalletType: f.CryptoWalletFactor.CryptoWalletType,
		}}
	case f.BiometricFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_BiometricFactor{BiometricFactor: &consumerv1.BiometricFactor{
			BiometricRegistrationId: f.BiometricFactor.BiometricRegistrationID,
		}}
	case f.EmbeddableMagicLinkFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_EmbeddableMagicLinkFactor{EmbeddableMagicLinkFactor: &consumerv1.EmbeddableMagicLinkFactor{
			EmbeddedId: f.EmbeddableMagicLinkFactor.EmbeddedID,
		}}
	case f.GoogleOAuthFactor != nil:
		out.Details = oauth(f.GoogleOAuthFactor)
	case f.MicrosoftOAuthFactor != nil:
		out.Details = oauth(f.MicrosoftOAuthFactor)
	case f.GithubOAuthFactor != nil:
		out.Details = oauth(f.GithubOAuthFactor)
	case f.SlackOAuthFactor != nil:
		out.Details = oauth(f.SlackOAuthFactor)
	case f.HubspotOAuthFactor != nil:
		out.Details = oauth(f.HubspotOAuthFactor)
	case f.AppleOAuthFactor != nil:
		out.Details = oauth(f.AppleOAuthFactor)
	case f.FacebookOAuthFactor != nil:
		out.Details = oauth(f.FacebookOAuthFactor)
	case f.OtherOAuthFactor() != nil:
		out.Details = oauth(f.OtherOAuthFactor())
	case f.ImpersonatedFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_ImpersonatedFactor{ImpersonatedFactor: &consumerv1.ImpersonatedFactor{
			ImpersonatorId: f.ImpersonatedFactor.ImpersonatorID, ImpersonatorEmailAddress: f.ImpersonatedFactor.ImpersonatorEmailAddress,
		}}
	case f.TrustedAuthTokenFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_TrustedAuthTokenFactor{TrustedAuthTokenFactor: &consumerv1.TrustedAuthTokenFactor{TokenId: f.TrustedAuthTokenFactor.TokenID}}
	case f.OAuthAccessTokenExchangeFactor != nil:
		out.Details = &consumerv1.AuthenticationFactor_OauthAccessTokenExchangeFactor{OauthAccessTokenExchangeFactor: &consumerv1.OAuthAccessTokenExchangeFactor{
			ClientId: f.OAuthAccessTokenExchangeFactor.ClientID,
		}}
	}
	return out
}

// consumerSession is the session part of every consumer response that may carry one (magic link,
// OTP and password authentications, session migrate and exchange): the session with its expiry,
// which the REST gateway sets the cookies from, and its credentials.
type consumerSession struct {
	session *consumerv1.Session
	token   string
	jwt     string
	user    *consumerv1.User
	userID  string
}

func newConsumerSession(r *stytchclient.ConsumerSessionResult) consumerSession {
	user := toUser(&r.User)
	id := r.UserID
	if id == "" {
		id = user.GetUserId()
	}
	return consumerSession{session: toUserSession(r.Session), token: r.SessionToken, jwt: r.SessionJWT, user: user, userID: id}
}
