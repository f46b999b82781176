package stytchemu

// consumerRoutes are the consumer-project endpoints (see doc.go). They are
// routed in every emulator; a B2B project answers them with wrongProjectType.
func (e *Emulator) consumerRoutes() []route {
	return []route{
		// users
		{"POST /v1/users", authRequired, e.userCreate},
		{"POST /v1/users/search", authRequired, e.userSearch},
		{"GET /v1/users/{user_id}", authRequired, e.userGet},
		{"PUT /v1/users/{user_id}", authRequired, e.userUpdate},
		{"DELETE /v1/users/{user_id}", authRequired, e.userDelete},
		{"PUT /v1/users/{user_id}/exchange_primary_factor", authRequired, e.userExchangePrimaryFactor},
		{"DELETE /v1/users/emails/{email_id}", authRequired, e.userFactorDelete(KindEmail, "email_id", errEmailNotFound, "Email")},
		{"DELETE /v1/users/phone_numbers/{phone_id}", authRequired, e.userFactorDelete(KindSMS, "phone_id", errPhoneNotFound, "Phone number")},
		{"DELETE /v1/users/passwords/{password_id}", authRequired, e.userFactorDelete(FactorPassword, "password_id", errPasswordNotFound, "Password")},
		{"DELETE /v1/users/totps/{totp_id}", authRequired, e.userFactorDelete(FactorTOTP, "totp_id", errTOTPNotFound, "TOTP")},
		{"DELETE /v1/users/webauthn_registrations/{webauthn_registration_id}", authRequired, e.userFactorDelete(FactorWebAuthn, "webauthn_registration_id", errWebAuthnNotFound, "WebAuthn registration")},
		{"DELETE /v1/users/oauth/{oauth_user_registration_id}", authRequired, e.userFactorDelete(FactorOAuth, "oauth_user_registration_id", errOAuthNotFound, "OAuth registration")},
		{"DELETE /v1/users/crypto_wallets/{crypto_wallet_id}", authRequired, e.userFactorDelete(FactorCrypto, "crypto_wallet_id", errCryptoWalletNotFound, "Crypto wallet")},
		{"DELETE /v1/users/biometric_registrations/{biometric_registration_id}", authRequired, e.userFactorDelete(FactorBiometric, "biometric_registration_id", errBiometricNotFound, "Biometric registration")},
		// magic links
		{"POST /v1/magic_links", authRequired, e.userMLCreate},
		{"POST /v1/magic_links/authenticate", authRequired, e.userMLAuthenticate},
		{"POST /v1/magic_links/email/send", authRequired, e.userMLSend},
		{"POST /v1/magic_links/email/login_or_create", authRequired, e.userMLLoginOrCreate},
		{"POST /v1/magic_links/email/invite", authRequired, e.userMLInvite},
		{"POST /v1/magic_links/email/revoke_invite", authRequired, e.userMLRevokeInvite},
		// OTPs
		{"POST /v1/otps/sms/send", authRequired, e.otpPhoneSend(KindSMS, false)},
		{"POST /v1/otps/sms/login_or_create", authRequired, e.otpPhoneSend(KindSMS, true)},
		{"POST /v1/otps/whatsapp/send", authRequired, e.otpPhoneSend(KindWhatsApp, false)},
		{"POST /v1/otps/whatsapp/login_or_create", authRequired, e.otpPhoneSend(KindWhatsApp, true)},
		{"POST /v1/otps/email/send", authRequired, e.otpEmailSend(false)},
		{"POST /v1/otps/email/login_or_create", authRequired, e.otpEmailSend(true)},
		{"POST /v1/otps/authenticate", authRequired, e.userOTPAuthenticate},
		// passwords
		{"POST /v1/passwords", authRequired, e.passwordCreate},
		{"POST /v1/passwords/authenticate", authRequired, e.passwordAuthenticate},
		{"POST /v1/passwords/strength_check", authRequired, e.passwordStrengthCheck},
		{"POST /v1/passwords/migrate", authRequired, e.passwordMigrate},
		{"POST /v1/passwords/email/reset/start", authRequired, e.passwordResetStart},
		{"POST /v1/passwords/email/reset", authRequired, e.passwordResetByEmail},
		{"POST /v1/passwords/existing_password/reset", authRequired, e.passwordResetExisting},
		{"POST /v1/passwords/session/reset", authRequired, e.passwordResetBySession},
		// TOTPs
		{"POST /v1/totps", authRequired, e.totpCreate},
		{"POST /v1/totps/authenticate", authRequired, e.totpAuthenticate},
		{"POST /v1/totps/recovery_codes", authRequired, e.totpRecoveryCodes},
		{"POST /v1/totps/recover", authRequired, e.totpRecover},
		// crypto wallets
		{"POST /v1/crypto_wallets/authenticate/start", authRequired, e.walletAuthStart},
		{"POST /v1/crypto_wallets/authenticate", authRequired, e.walletAuthenticate},
		// WebAuthn
		{"POST /v1/webauthn/register/start", authRequired, e.webauthnRegisterStart},
		{"POST /v1/webauthn/register", authRequired, e.webauthnRegister},
		{"POST /v1/webauthn/authenticate/start", authRequired, e.webauthnAuthenticateStart},
		{"POST /v1/webauthn/authenticate", authRequired, e.webauthnAuthenticate},
		{"PUT /v1/webauthn/{webauthn_registration_id}", authRequired, e.webauthnUpdate},
		{"GET /v1/webauthn/credentials/{user_id}/{domain}", authRequired, e.webauthnListCredentials},
		// sessions (the JWKS path is in stytchRoutes: both project types serve it)
		{"GET /v1/sessions", authRequired, e.userSessionsGet},
		{"POST /v1/sessions/authenticate", authRequired, e.userSessionsAuthenticate},
		{"POST /v1/sessions/revoke", authRequired, e.userSessionsRevoke},
		{"POST /v1/sessions/migrate", authRequired, e.userSessionsMigrate},
		{"POST /v1/sessions/exchange_access_token", authRequired, e.userExchangeAccessToken},
		{"POST /v1/idp/oauth/authorize/start", authRequired, e.idpAuthorizeStart},
		{"POST /v1/idp/oauth/authorize", authRequired, e.idpAuthorize},
		{"GET /v1/users/{user_id}/connected_apps", authRequired, e.userConnectedApps},
		{"POST /v1/users/{user_id}/connected_apps/{connected_app_id}/revoke", authRequired, e.userRevokeConnectedApp},
		// OAuth (the start endpoint is the browser's: the public token names the project)
		{OAuthStartTemplate, authNone, e.oauthStart},
		{"POST /v1/oauth/attach", authRequired, e.oauthAttachToken},
		{"POST /v1/oauth/authenticate", authRequired, e.oauthAuthenticate},
	}
}
