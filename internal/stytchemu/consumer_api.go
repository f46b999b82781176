package stytchemu

import (
	"fmt"
	"time"
)

// User is what the Go helpers return about a consumer user.
type User struct {
	ID      string
	Email   string
	EmailID string
	Phone   string
	PhoneID string
	Status  string
}

// UserParams configures CreateUser; Email or Phone is required.
type UserParams struct {
	Email      string
	Phone      string // E.164
	FirstName  string
	LastName   string
	Roles      []string // explicit roles; every user also has stytch_user
	Pending    bool     // create as "pending" instead of "active"
	ExternalID string
	// Verified marks the email and phone as verified (as after a login).
	Verified bool
}

// UserSession is a consumer session minted by CreateUserSession.
type UserSession struct {
	ID        string
	Token     string
	JWT       string
	UserID    string
	ExpiresAt time.Time
}

func (e *Emulator) requireConsumer() error {
	if e.projectType != ProjectConsumer {
		return fmt.Errorf("stytchemu: %s is a B2B project; users need a consumer project (WithConsumer)", e.projectID)
	}
	return nil
}

func userOf(u *user) User {
	out := User{ID: u.id, Status: u.status}
	if len(u.emails) > 0 {
		out.Email, out.EmailID = u.emails[0].Email, u.emails[0].EmailID
	}
	if len(u.phones) > 0 {
		out.Phone, out.PhoneID = u.phones[0].PhoneNumber, u.phones[0].PhoneID
	}
	return out
}

// CreateUser creates a consumer user directly (same rules as POST /v1/users).
func (e *Emulator) CreateUser(p UserParams) (User, error) {
	if err := e.requireConsumer(); err != nil {
		return User{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, aerr := e.createUser(userInput{
		Email: p.Email, PhoneNumber: p.Phone, CreateAsPending: p.Pending, ExternalID: p.ExternalID,
		Roles: p.Roles, Name: &userName{FirstName: p.FirstName, LastName: p.LastName},
	}, e.clock.Now())
	if aerr != nil {
		return User{}, apiErr(aerr)
	}
	if p.Verified {
		for _, em := range u.emails {
			em.Verified = true
		}
		for _, ph := range u.phones {
			ph.Verified = true
		}
	}
	return userOf(u), nil
}

// CreateUserSession mints a live session for a user as if it had just logged
// in with an email magic link (or SMS OTP when the user has no email), so
// tests get a session token and JWT without the HTTP flow. d <= 0 means 60
// minutes.
func (e *Emulator) CreateUserSession(userID string, d time.Duration) (UserSession, error) {
	return e.CreateUserSessionWithClaims(userID, d, nil)
}

// CreateUserSessionWithClaims is CreateUserSession with session custom claims.
func (e *Emulator) CreateUserSessionWithClaims(userID string, d time.Duration, claims map[string]any) (UserSession, error) {
	if err := e.requireConsumer(); err != nil {
		return UserSession{}, err
	}
	if d <= 0 {
		d = defaultSessionMins * time.Minute
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.cs.findUser(userID)
	if u == nil {
		return UserSession{}, apiErr(userNotFound())
	}
	now := e.clock.Now()
	ts := rfc3339(now)
	f := factor{Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts}
	switch {
	case len(u.emails) > 0:
		f.EmailFactor = &emailFactor{EmailID: u.emails[0].EmailID, EmailAddress: u.emails[0].Email}
	case len(u.phones) > 0:
		f.Type, f.DeliveryMethod = "otp", KindSMS
		f.PhoneNumberFactor = &phoneFactor{PhoneID: u.phones[0].PhoneID, PhoneNumber: u.phones[0].PhoneNumber}
	}
	cc, aerr := mergeClaims(nil, claims)
	if aerr != nil {
		return UserSession{}, apiErr(aerr)
	}
	if u.status == statusPending {
		u.status = statusActive
	}
	ss := e.newUserSession(u, []factor{f}, d, cc, now)
	j, err := e.userSessionJWT(ss, now)
	if err != nil {
		return UserSession{}, err
	}
	return UserSession{ID: ss.id, Token: ss.token, JWT: j, UserID: u.id, ExpiresAt: ss.expiresAt}, nil
}

// SeedUserFactor gives a user a factor record without its flow, so the
// factor-delete endpoints have something to delete (a seeded WebAuthn
// registration has no credential: it cannot log in). kind is FactorPassword,
// FactorTOTP, FactorWebAuthn, FactorOAuth, FactorCrypto or FactorBiometric;
// it returns the new factor's ID.
func (e *Emulator) SeedUserFactor(userID, kind string) (string, error) {
	if err := e.requireConsumer(); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.cs.findUser(userID)
	if u == nil {
		return "", apiErr(userNotFound())
	}
	var f seededFactor
	switch kind {
	case FactorPassword:
		u.passwordID = "password-test-" + newUUID()
		return u.passwordID, nil
	case FactorTOTP:
		f.id = "totp-test-" + newUUID()
		f.wire = obj{"totp_id": f.id, "verified": true}
	case FactorWebAuthn:
		f.id = "webauthn-registration-test-" + newUUID()
		f.wire = obj{"webauthn_registration_id": f.id, "domain": "localhost", "user_agent": "stytchemu", "verified": true, "authenticator_type": "platform", "name": "Emulator passkey"}
	case FactorOAuth:
		f.id = "oauth-user-registration-test-" + newUUID()
		f.wire = obj{"provider_type": "Google", "provider_subject": newUUID(), "profile_picture_url": "", "locale": "en", "oauth_user_registration_id": f.id}
	case FactorCrypto:
		f.id = "crypto-wallet-test-" + newUUID()
		f.wire = obj{"crypto_wallet_id": f.id, "crypto_wallet_address": "0x" + newUUID()[:8], "crypto_wallet_type": "ethereum", "verified": true}
	case FactorBiometric:
		f.id = "biometric-registration-test-" + newUUID()
		f.wire = obj{"biometric_registration_id": f.id, "verified": true}
	default:
		return "", fmt.Errorf("stytchemu: unknown factor kind %q", kind)
	}
	f.kind = kind
	u.factors = append(u.factors, f)
	return f.id, nil
}

// AddMigrationToken registers an external identity provider's session token
// that POST /v1/sessions/migrate accepts for the user with email (created on
// first use when there is none). Stytch asks the project's UserInfo endpoint;
// the emulator asks this table.
func (e *Emulator) AddMigrationToken(token, email string) error {
	if err := e.requireConsumer(); err != nil {
		return err
	}
	if !validEmail(email) {
		return fmt.Errorf("stytchemu: AddMigrationToken: not a valid email address")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cs.migrations[token] = email
	return nil
}
