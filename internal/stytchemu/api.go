package stytchemu

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Organization is what the Go helpers return about an organization.
type Organization struct {
	ID   string
	Name string
	Slug string
}

// OrganizationParams configures CreateOrganization. Empty fields take
// Stytch's defaults.
type OrganizationParams struct {
	Name                 string
	Slug                 string   // default: derived from Name
	MFAPolicy            string   // "OPTIONAL" (default) or "REQUIRED_FOR_ALL"
	EmailInvites         string   // "ALL_ALLOWED", "RESTRICTED", "NOT_ALLOWED"
	EmailJITProvisioning string   // "RESTRICTED" or "NOT_ALLOWED"
	EmailAllowedDomains  []string // for RESTRICTED invites and JIT
}

// Member is what the Go helpers return about a member.
type Member struct {
	ID             string
	OrganizationID string
	Email          string
	Status         string
}

// MemberParams configures CreateMember.
type MemberParams struct {
	Email          string
	Name           string
	Roles          []string // explicit roles; every member also has stytch_member
	MFAPhoneNumber string   // E.164
	MFAEnrolled    bool
	Pending        bool // create as "pending" instead of "active"
	ExternalID     string
}

// Session is a member session minted by CreateSession.
type Session struct {
	ID             string
	Token          string
	JWT            string
	MemberID       string
	OrganizationID string
	ExpiresAt      time.Time
}

// M2MClient is an M2M client with its secret (only CreateM2MClient shows it).
type M2MClient struct {
	ClientID     string
	ClientSecret string
	Scopes       []string
}

// ErrNotFound is returned by the Go helpers for unknown IDs.
var ErrNotFound = errors.New("stytchemu: not found")

func apiErr(aerr *apiError) error {
	if aerr == nil {
		return nil
	}
	if aerr.status == 404 {
		return fmt.Errorf("%w: %s", ErrNotFound, aerr.typ)
	}
	return fmt.Errorf("stytchemu: %s: %s", aerr.typ, aerr.message)
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateOrganization creates an organization directly (same rules as
// POST /v1/b2b/organizations).
func (e *Emulator) CreateOrganization(p OrganizationParams) (Organization, error) {
	s := orgSettings{
		OrganizationName:     strPtr(p.Name),
		OrganizationSlug:     strPtr(p.Slug),
		MFAPolicy:            strPtr(p.MFAPolicy),
		EmailInvites:         strPtr(p.EmailInvites),
		EmailJITProvisioning: strPtr(p.EmailJITProvisioning),
		EmailAllowedDomains:  p.EmailAllowedDomains,
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o, aerr := e.createOrg("", &s, e.clock.Now())
	if aerr != nil {
		return Organization{}, apiErr(aerr)
	}
	return Organization{ID: o.OrganizationID, Name: o.OrganizationName, Slug: o.OrganizationSlug}, nil
}

// CreateMember creates a member directly (same rules as
// POST /v1/b2b/organizations/{organization_id}/members).
func (e *Emulator) CreateMember(orgID string, p MemberParams) (Member, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.st.findOrg(orgID)
	if org == nil {
		return Member{}, apiErr(orgNotFound())
	}
	status := statusActive
	if p.Pending {
		status = statusPending
	}
	m, aerr := e.createMember(org, memberInput{
		EmailAddress: p.Email, Name: p.Name, Roles: p.Roles,
		MFAPhoneNumber: p.MFAPhoneNumber, MFAEnrolled: p.MFAEnrolled, ExternalID: p.ExternalID,
	}, status, e.clock.Now())
	if aerr != nil {
		return Member{}, apiErr(aerr)
	}
	return Member{ID: m.MemberID, OrganizationID: m.OrganizationID, Email: m.EmailAddress, Status: m.Status}, nil
}

// CreateSession mints a live session for a member as if it had just logged
// in with an email magic link (and, for MFA organizations, SMS OTP), so
// tests get a session token and JWT without driving the HTTP flow.
func (e *Emulator) CreateSession(orgID, memberID string, d time.Duration) (Session, error) {
	return e.CreateSessionWithClaims(orgID, memberID, d, nil)
}

// CreateSessionWithClaims is CreateSession with session custom claims.
func (e *Emulator) CreateSessionWithClaims(orgID, memberID string, d time.Duration, claims map[string]any) (Session, error) {
	if d <= 0 {
		d = defaultSessionMins * time.Minute
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.st.findOrg(orgID)
	if org == nil {
		return Session{}, apiErr(orgNotFound())
	}
	m := e.st.findMember(org.OrganizationID, memberID, false)
	if m == nil {
		return Session{}, apiErr(memberNotFound())
	}
	now := e.clock.Now()
	factors := []factor{emailFactorFor("magic_link", m, now)}
	if needsMFA(org, m, factors) && m.MFAPhoneNumber != "" {
		factors = append(factors, smsFactorFor(m, now))
	}
	cc, aerr := mergeClaims(nil, claims)
	if aerr != nil {
		return Session{}, apiErr(aerr)
	}
	e.activate(m, now)
	ss := e.newSession(m, factors, d, cc, now)
	j, err := e.sessionJWT(ss, now)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: ss.id, Token: ss.token, JWT: j, MemberID: m.MemberID, OrganizationID: org.OrganizationID, ExpiresAt: ss.expiresAt}, nil
}

// SignJWT signs arbitrary claims with the current key (kid set), for
// verifier tests that need tokens the endpoints would never issue (wrong
// aud, missing exp, ...).
func (e *Emulator) SignJWT(claims map[string]any) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.keys.sign(jwt.MapClaims(maps.Clone(claims)))
}

// CreateM2MClient creates an M2M client directly and returns its secret.
func (e *Emulator) CreateM2MClient(name string, scopes []string) (M2MClient, error) {
	if scopes == nil {
		scopes = []string{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, aerr := e.createM2MClient("", "", name, "", scopes, nil)
	if aerr != nil {
		return M2MClient{}, apiErr(aerr)
	}
	return M2MClient{ClientID: c.ClientID, ClientSecret: c.secret, Scopes: append([]string(nil), c.Scopes...)}, nil
}

// SetM2MCustomClaims sets custom claims added to the client's future access
// tokens (Stytch configures these per project; the emulator per client).
func (e *Emulator) SetM2MCustomClaims(clientID string, claims map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.st.m2m[clientID]
	if !ok {
		return apiErr(m2mNotFound())
	}
	c.customClaims = maps.Clone(claims)
	return nil
}

// AddMemberPassword gives a member a password record without a password
// (no password matches it) and returns its member_password_id, so the
// delete-password endpoint has something to delete; SetMemberPassword
// gives one that logs in.
func (e *Emulator) AddMemberPassword(orgID, memberID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.st.findOrg(orgID)
	if org == nil {
		return "", apiErr(orgNotFound())
	}
	m := e.st.findMember(org.OrganizationID, memberID, false)
	if m == nil {
		return "", apiErr(memberNotFound())
	}
	e.clearPassword(m)
	m.MemberPasswordID = "member-password-test-" + newUUID()
	e.st.passwords[m.MemberPasswordID] = m.MemberID
	return m.MemberPasswordID, nil
}

// AddMemberOIDCTokens keeps tokens as if the member had logged in through
// an OIDC SSO connection, so the member's oidc_providers route has something
// to serve (the emulator has no SSO yet).
func (e *Emulator) AddMemberOIDCTokens(orgID, memberID string, t OIDCTokens) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.st.findOrg(orgID)
	if org == nil {
		return apiErr(orgNotFound())
	}
	m := e.st.findMember(org.OrganizationID, memberID, false)
	if m == nil {
		return apiErr(memberNotFound())
	}
	t.Scopes = append([]string{}, t.Scopes...)
	m.oidcTokens = append(m.oidcTokens, t)
	return nil
}

// SetMemberPassword gives a member the password (hashed as the B2B password
// routes hash it, after the project's strength policy) and returns its
// member_password_id: a sign-up for tests, as a member with a password
// would otherwise need the reset or migrate flow first.
func (e *Emulator) SetMemberPassword(orgID, memberID, password string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.st.findOrg(orgID)
	if org == nil {
		return "", apiErr(orgNotFound())
	}
	m := e.st.findMember(org.OrganizationID, memberID, false)
	if m == nil {
		return "", apiErr(memberNotFound())
	}
	aerr, err := e.pw.checkNew(password, m.EmailAddress)
	if err != nil {
		return "", err
	}
	if aerr != nil {
		return "", apiErr(aerr)
	}
	h, err := e.pw.hasher.Hash(password)
	if err != nil {
		return "", err
	}
	e.storeMemberPassword(m, &storedPassword{hash: h})
	return m.MemberPasswordID, nil
}

// seedSandbox creates Stytch's sandbox organization and member.
func (e *Emulator) seedSandbox() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	name, slug, invites := "Sandbox Organization", "sandbox-organization", allAllowed
	jit := restricted
	o, aerr := e.createOrg(SandboxOrganizationID, &orgSettings{
		OrganizationName: &name, OrganizationSlug: &slug, EmailInvites: &invites,
		EmailJITProvisioning: &jit, EmailAllowedDomains: []string{"stytch.com"},
	}, now)
	if aerr != nil {
		return // cannot happen on an empty store
	}
	m := &member{
		OrganizationID: o.OrganizationID, MemberID: SandboxMemberID, EmailAddress: SandboxEmail,
		Status: statusActive, Name: "Sandbox Member", EmailAddressVerified: true, DefaultMFAMethod: "sms_otp",
		CreatedAt: rfc3339(now), UpdatedAt: rfc3339(now), explicitRoles: []string{RoleAdmin},
		emailID: "member-email-test-" + newUUID(), phoneID: "member-phone-test-" + newUUID(),
	}
	e.st.addMember(m)
}

// sandboxSession returns the always-valid sandbox session, recreating it
// when it expired. Caller holds e.mu.
func (e *Emulator) sandboxSession(now time.Time) *memberSession {
	if id, ok := e.st.sessionByToken[SandboxSessionToken]; ok {
		if ss := e.liveSession(id, now); ss != nil {
			return ss
		}
	}
	m := e.st.members[SandboxMemberID]
	if m == nil {
		m = &member{MemberID: SandboxMemberID, OrganizationID: SandboxOrganizationID, EmailAddress: SandboxEmail}
	}
	ss := &memberSession{
		sessionBase: startSession("member-session-test-"+newUUID(), SandboxSessionToken,
			[]factor{emailFactorFor("magic_link", m, now)}, defaultSessionMins*time.Minute, nil, now),
		memberID: SandboxMemberID, orgID: SandboxOrganizationID,
	}
	e.st.sessions[ss.id] = ss
	e.st.sessionByToken[ss.token] = ss.id
	return ss
}
