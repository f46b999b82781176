package stytchclient

import "encoding/json"

// Consumer project objects (Stytch's api_user_v1_* and api_session_v1_* schemas). Names start
// with User where Stytch's object is the user's (User, UserSession, UserAuthenticationFactor) so
// they never collide with the B2B ones (Member, MemberSessionInfo, AuthenticationFactor); see the
// package documentation for the whole scheme.

// User is a consumer user (api_user_v1_User).
type User struct {
	UserID                 string                      `json:"user_id"`
	Emails                 []UserEmail                 `json:"emails"`
	Status                 string                      `json:"status"` // active, pending
	PhoneNumbers           []UserPhoneNumber           `json:"phone_numbers"`
	WebAuthnRegistrations  []UserWebAuthnRegistration  `json:"webauthn_registrations"`
	Providers              []UserOAuthProvider         `json:"providers"`
	TOTPs                  []UserTOTP                  `json:"totps"`
	CryptoWallets          []UserCryptoWallet          `json:"crypto_wallets"`
	BiometricRegistrations []UserBiometricRegistration `json:"biometric_registrations"`
	IsLocked               bool                        `json:"is_locked"`
	Roles                  []string                    `json:"roles"`
	Name                   *UserName                   `json:"name,omitempty"`
	CreatedAt              Timestamp                   `json:"created_at"`
	Password               *UserPassword               `json:"password,omitempty"`
	TrustedMetadata        Metadata                    `json:"trusted_metadata,omitempty"`
	UntrustedMetadata      Metadata                    `json:"untrusted_metadata,omitempty"`
	ExternalID             string                      `json:"external_id,omitempty"`
	LockCreatedAt          Timestamp                   `json:"lock_created_at"`
	LockExpiresAt          Timestamp                   `json:"lock_expires_at"`
}

// UserName is a user's name; every part is optional.
type UserName struct {
	FirstName  string `json:"first_name,omitempty"`
	MiddleName string `json:"middle_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
}

// UserEmail is one email address of a user.
type UserEmail struct {
	EmailID  string `json:"email_id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

// UserPhoneNumber is one phone number (E.164) of a user.
type UserPhoneNumber struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
	Verified    bool   `json:"verified"`
}

// UserPassword says that a user has a password.
type UserPassword struct {
	PasswordID    string `json:"password_id"`
	RequiresReset bool   `json:"requires_reset"`
}

// UserTOTP is an authenticator-app registration of a user.
type UserTOTP struct {
	TOTPID   string `json:"totp_id"`
	Verified bool   `json:"verified"`
}

// UserWebAuthnRegistration is a passkey or security key of a user.
type UserWebAuthnRegistration struct {
	WebAuthnRegistrationID string `json:"webauthn_registration_id"`
	Domain                 string `json:"domain"`
	UserAgent              string `json:"user_agent"`
	Verified               bool   `json:"verified"`
	AuthenticatorType      string `json:"authenticator_type"`
	Name                   string `json:"name"`
}

// UserOAuthProvider is an OAuth identity linked to a user.
type UserOAuthProvider struct {
	ProviderType            string `json:"provider_type"`
	ProviderSubject         string `json:"provider_subject"`
	ProfilePictureURL       string `json:"profile_picture_url"`
	Locale                  string `json:"locale"`
	OAuthUserRegistrationID string `json:"oauth_user_registration_id"`
}

// UserCryptoWallet is a crypto wallet of a user.
type UserCryptoWallet struct {
	CryptoWalletID      string `json:"crypto_wallet_id"`
	CryptoWalletAddress string `json:"crypto_wallet_address"`
	CryptoWalletType    string `json:"crypto_wallet_type"`
	Verified            bool   `json:"verified"`
}

// UserBiometricRegistration is a mobile biometric registration of a user.
type UserBiometricRegistration struct {
	BiometricRegistrationID string `json:"biometric_registration_id"`
	Verified                bool   `json:"verified"`
}

// UserSession is a consumer session (api_session_v1_Session).
type UserSession struct {
	SessionID             string                     `json:"session_id"`
	UserID                string                     `json:"user_id"`
	AuthenticationFactors []UserAuthenticationFactor `json:"authentication_factors"`
	Roles                 []string                   `json:"roles"`
	StartedAt             Timestamp                  `json:"started_at"`
	LastAccessedAt        Timestamp                  `json:"last_accessed_at"`
	ExpiresAt             Timestamp                  `json:"expires_at"`
	Attributes            *Attributes                `json:"attributes,omitempty"`
	CustomClaims          Metadata                   `json:"custom_claims,omitempty"`
}

// UserAuthenticationFactor is one factor of a consumer session: the B2B factor's fields (type,
// delivery method, times, email, phone, TOTP, recovery code, SSO, OAuth, impersonation, token
// exchange, trusted auth token) plus the factors only consumer projects have, every OAuth
// provider's included.
type UserAuthenticationFactor struct {
	AuthenticationFactor
	WebAuthnFactor            *WebAuthnFactor            `json:"webauthn_factor,omitempty"`
	CryptoWalletFactor        *CryptoWalletFactor        `json:"crypto_wallet_factor,omitempty"`
	BiometricFactor           *BiometricFactor           `json:"biometric_factor,omitempty"`
	EmbeddableMagicLinkFactor *EmbeddableMagicLinkFactor `json:"embeddable_magic_link_factor,omitempty"`
	AppleOAuthFactor          *OAuthFactor               `json:"apple_oauth_factor,omitempty"`
	FacebookOAuthFactor       *OAuthFactor               `json:"facebook_oauth_factor,omitempty"`
	// The other OAuth providers' factors (consumer_oauth.go).
	ConsumerOAuthFactors
}

// SetDetails fills the factor's detail objects (webauthn_factor, crypto_wallet_factor,
// authenticator_app_factor, ...) from details, the factor's other JSON members by name, as a
// session JWT's claim carries them: so a session checked locally shows the same factor as one
// Stytch returned. Type, delivery method and times are not touched.
func (f *UserAuthenticationFactor) SetDetails(details map[string]any) error {
	if len(details) == 0 {
		return nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	var d UserAuthenticationFactor
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	d.Type, d.DeliveryMethod = f.Type, f.DeliveryMethod
	d.LastAuthenticatedAt, d.CreatedAt, d.UpdatedAt = f.LastAuthenticatedAt, f.CreatedAt, f.UpdatedAt
	if d.EmailFactor == nil {
		d.EmailFactor = f.EmailFactor
	}
	if d.PhoneNumberFactor == nil {
		d.PhoneNumberFactor = f.PhoneNumberFactor
	}
	*f = d
	return nil
}

// WebAuthnFactor is a passkey or security-key factor.
type WebAuthnFactor struct {
	WebAuthnRegistrationID string `json:"webauthn_registration_id"`
	Domain                 string `json:"domain"`
	UserAgent              string `json:"user_agent,omitempty"`
}

// CryptoWalletFactor is a crypto-wallet factor.
type CryptoWalletFactor struct {
	CryptoWalletID      string `json:"crypto_wallet_id"`
	CryptoWalletAddress string `json:"crypto_wallet_address"`
	CryptoWalletType    string `json:"crypto_wallet_type"`
}

// BiometricFactor is a mobile biometric factor.
type BiometricFactor struct {
	BiometricRegistrationID string `json:"biometric_registration_id"`
}

// EmbeddableMagicLinkFactor is an embeddable magic link's factor (ConsumerMagicLinkCreate); it
// proves no email address or phone number.
type EmbeddableMagicLinkFactor struct {
	EmbeddedID string `json:"embedded_id"`
}

// Attributes are the end user's IP address and user agent, passed to Stytch for fraud checks
// and for AuthenticateOptions.
type Attributes struct {
	IPAddress string `json:"ip_address,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// AuthenticateOptions make a consumer magic-link or OTP authenticate require that the request's
// Attributes match those of the send.
type AuthenticateOptions struct {
	IPMatchRequired        bool `json:"ip_match_required"`
	UserAgentMatchRequired bool `json:"user_agent_match_required"`
}

// ConsumerAuthorizationCheck asks consumer sessions/authenticate to check an RBAC permission
// (there is no organization in a consumer project).
type ConsumerAuthorizationCheck struct {
	ResourceID string `json:"resource_id"`
	Action     string `json:"action"`
}

// ConsumerSessionResult is the common shape of consumer calls that may start a session
// (sessions migrate and exchange_access_token; the authenticate calls add to it, see
// ConsumerAuthenticateResult). Without session_duration_minutes no session is created:
// SessionToken and SessionJWT are then empty and Session is nil.
type ConsumerSessionResult struct {
	Envelope
	UserID       string       `json:"user_id"`
	SessionToken string       `json:"session_token"`
	SessionJWT   string       `json:"session_jwt"`
	User         User         `json:"user"`
	Session      *UserSession `json:"session,omitempty"`
	UserDevice   *DeviceInfo  `json:"user_device,omitempty"`
}

// ConsumerAuthenticateResult is returned by consumer magic-link and OTP authenticate.
type ConsumerAuthenticateResult struct {
	ConsumerSessionResult
	// MethodID is the email_id or phone_id that was proven; empty for an embeddable magic link.
	MethodID      string `json:"method_id"`
	ResetSessions bool   `json:"reset_sessions"`
}

// ConsumerEmailSendResult is returned by the consumer email sends (magic link send and invite,
// email OTP send).
type ConsumerEmailSendResult struct {
	Envelope
	UserID  string `json:"user_id"`
	EmailID string `json:"email_id"`
}

// ConsumerEmailLoginOrCreateResult is returned by the consumer email login_or_create calls.
type ConsumerEmailLoginOrCreateResult struct {
	ConsumerEmailSendResult
	UserCreated bool `json:"user_created"`
}

// ConsumerPhoneSendResult is returned by the SMS and WhatsApp OTP sends; PhoneID is the
// method_id to authenticate the code with.
type ConsumerPhoneSendResult struct {
	Envelope
	UserID  string `json:"user_id"`
	PhoneID string `json:"phone_id"`
}

// ConsumerPhoneLoginOrCreateResult is returned by the SMS and WhatsApp OTP login_or_create calls.
type ConsumerPhoneLoginOrCreateResult struct {
	ConsumerPhoneSendResult
	UserCreated bool `json:"user_created"`
}
