package stytchclient

import "context"

// UserCreateParams for POST /v1/users. Set Email, PhoneNumber or both.
type UserCreateParams struct {
	Email               string      `json:"email,omitempty"`
	PhoneNumber         string      `json:"phone_number,omitempty"` // E.164
	Name                *UserName   `json:"name,omitempty"`
	CreateUserAsPending bool        `json:"create_user_as_pending,omitempty"`
	TrustedMetadata     Metadata    `json:"trusted_metadata,omitzero"`
	UntrustedMetadata   Metadata    `json:"untrusted_metadata,omitzero"`
	ExternalID          string      `json:"external_id,omitempty"`
	Roles               []string    `json:"roles,omitzero"`
	Attributes          *Attributes `json:"attributes,omitempty"`
}

// UserCreateResult is the response of user create.
type UserCreateResult struct {
	Envelope
	UserID  string `json:"user_id"`
	EmailID string `json:"email_id"`
	PhoneID string `json:"phone_id"`
	Status  string `json:"status"`
	User    User   `json:"user"`
}

// UserCreate creates a user. Never retried once written.
func (c *Client) UserCreate(ctx context.Context, p UserCreateParams) (*UserCreateResult, error) {
	var out UserCreateResult
	err := c.do(ctx, call{endpoint: "POST /v1/users", body: p}, &out)
	return ptrOrNil(&out, err)
}

// UserGetResult is a user: Stytch answers user get with the user's fields at the top level.
type UserGetResult struct {
	Envelope
	User
}

// UserGet fetches a user by ID or external ID. Read-only: retried on transport failures and 5xx.
func (c *Client) UserGet(ctx context.Context, userID string) (*UserGetResult, error) {
	var out UserGetResult
	err := c.do(ctx, call{endpoint: "GET /v1/users/{user_id}", params: []string{userID}}, &out)
	return ptrOrNil(&out, err)
}

// UserUpdateParams for PUT /v1/users/{user_id}.
//
// Only set fields are sent: nil leaves a field alone; a pointer to "", an empty non-nil Roles
// (removes every explicit role) or an empty non-nil metadata map is sent as given. Emails and
// phone numbers are not updated here: send a magic link or OTP to add one, delete one with
// UserDeleteEmail or UserDeletePhoneNumber.
type UserUpdateParams struct {
	UserID string `json:"-"`

	Name              *UserName   `json:"name,omitempty"`
	TrustedMetadata   Metadata    `json:"trusted_metadata,omitzero"`
	UntrustedMetadata Metadata    `json:"untrusted_metadata,omitzero"`
	ExternalID        *string     `json:"external_id,omitempty"`
	Roles             []string    `json:"roles,omitzero"`
	Attributes        *Attributes `json:"attributes,omitempty"`
}

// UserUpdateResult is the response of user update.
type UserUpdateResult struct {
	Envelope
	UserID        string             `json:"user_id"`
	Emails        []UserEmail        `json:"emails"`
	PhoneNumbers  []UserPhoneNumber  `json:"phone_numbers"`
	CryptoWallets []UserCryptoWallet `json:"crypto_wallets"`
	User          User               `json:"user"`
}

// UserUpdate updates a user. Not retried once written.
func (c *Client) UserUpdate(ctx context.Context, p UserUpdateParams) (*UserUpdateResult, error) {
	var out UserUpdateResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/users/{user_id}",
		params:   []string{p.UserID},
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// UserDeleteResult is the response of user delete.
type UserDeleteResult struct {
	Envelope
	UserID string `json:"user_id"`
}

// UserDelete deletes a user (and their sessions). Not retried once written.
func (c *Client) UserDelete(ctx context.Context, userID string) (*UserDeleteResult, error) {
	var out UserDeleteResult
	err := c.do(ctx, call{endpoint: "DELETE /v1/users/{user_id}", params: []string{userID}}, &out)
	return ptrOrNil(&out, err)
}

// UserSearchParams for POST /v1/users/search. Query operands are filter objects such as
// {"filter_name": "email_address", "filter_value": ["ada@example.com"]}; pass a page's
// ResultsMetadata.NextCursor as Cursor for the next page.
type UserSearchParams struct {
	Cursor string       `json:"cursor,omitempty"`
	Limit  int32        `json:"limit,omitempty"`
	Query  *SearchQuery `json:"query,omitempty"`
}

// UserSearchResult is a page of users.
type UserSearchResult struct {
	Envelope
	Results         []User          `json:"results"`
	ResultsMetadata ResultsMetadata `json:"results_metadata"`
}

// UserSearch searches users (Stytch: 150/min). A POST that changes nothing, so it is retried
// like a GET.
func (c *Client) UserSearch(ctx context.Context, p UserSearchParams) (*UserSearchResult, error) {
	var out UserSearchResult
	err := c.do(ctx, call{endpoint: "POST /v1/users/search", body: p, readOnly: true}, &out)
	return ptrOrNil(&out, err)
}

// UserResult is the response of the factor deletes and exchange_primary_factor: the user as it
// is afterwards.
type UserResult struct {
	Envelope
	UserID string `json:"user_id"`
	User   User   `json:"user"`
}

// UserExchangePrimaryFactorParams for PUT /v1/users/{user_id}/exchange_primary_factor. Set
// exactly one of EmailAddress and PhoneNumber.
type UserExchangePrimaryFactorParams struct {
	UserID       string `json:"-"`
	EmailAddress string `json:"email_address,omitempty"`
	PhoneNumber  string `json:"phone_number,omitempty"`
}

// UserExchangePrimaryFactor replaces the only factor of a user with a new email address or phone
// number. Not retried once written.
func (c *Client) UserExchangePrimaryFactor(ctx context.Context, p UserExchangePrimaryFactorParams) (*UserResult, error) {
	var out UserResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/users/{user_id}/exchange_primary_factor",
		params:   []string{p.UserID},
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// deleteFactor runs one of the DELETE /v1/users/<factor>/{id} endpoints. Each is keyed by the
// factor's own ID, not the user's.
func (c *Client) deleteFactor(ctx context.Context, endpoint, id string) (*UserResult, error) {
	var out UserResult
	err := c.do(ctx, call{endpoint: endpoint, params: []string{id}}, &out)
	return ptrOrNil(&out, err)
}

// UserDeleteEmail removes an email address (by email_id) from its user. Not retried once written.
func (c *Client) UserDeleteEmail(ctx context.Context, emailID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/emails/{email_id}", emailID)
}

// UserDeletePhoneNumber removes a phone number (by phone_id) from its user.
func (c *Client) UserDeletePhoneNumber(ctx context.Context, phoneID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/phone_numbers/{phone_id}", phoneID)
}

// UserDeletePassword removes a user's password (by password_id).
func (c *Client) UserDeletePassword(ctx context.Context, passwordID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/passwords/{password_id}", passwordID)
}

// UserDeleteTOTP removes an authenticator-app registration (by totp_id).
func (c *Client) UserDeleteTOTP(ctx context.Context, totpID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/totps/{totp_id}", totpID)
}

// UserDeleteWebAuthnRegistration removes a passkey or security key.
func (c *Client) UserDeleteWebAuthnRegistration(ctx context.Context, webauthnRegistrationID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/webauthn_registrations/{webauthn_registration_id}", webauthnRegistrationID)
}

// UserDeleteOAuthRegistration removes a linked OAuth identity (by oauth_user_registration_id).
func (c *Client) UserDeleteOAuthRegistration(ctx context.Context, oauthUserRegistrationID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/oauth/{oauth_user_registration_id}", oauthUserRegistrationID)
}

// UserDeleteCryptoWallet removes a crypto wallet.
func (c *Client) UserDeleteCryptoWallet(ctx context.Context, cryptoWalletID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/crypto_wallets/{crypto_wallet_id}", cryptoWalletID)
}

// UserDeleteBiometricRegistration removes a mobile biometric registration.
func (c *Client) UserDeleteBiometricRegistration(ctx context.Context, biometricRegistrationID string) (*UserResult, error) {
	return c.deleteFactor(ctx, "DELETE /v1/users/biometric_registrations/{biometric_registration_id}", biometricRegistrationID)
}
