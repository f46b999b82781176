package stytchemu

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/rbac"
)

// Role IDs of Stytch's default RBAC policy.
const (
	RoleAdmin  = "stytch_admin"
	RoleMember = "stytch_member"
)

// Organization settings values (strings in the spec, closed sets in prose).
const (
	allAllowed     = "ALL_ALLOWED"
	restricted     = "RESTRICTED"
	notAllowed     = "NOT_ALLOWED"
	mfaRequired    = "REQUIRED_FOR_ALL"
	mfaOptional    = "OPTIONAL"
	statusActive   = "active"
	statusPending  = "pending"
	statusInvited  = "invited"
	statusDeleted  = "deleted"
	statusInactive = "inactive"
)

// Session and token lifetimes (docs/stytch.md).
const (
	jwtLifetime          = 5 * time.Minute
	defaultSessionMins   = 60
	minSessionMins       = 5
	maxSessionMins       = 527040
	istLifetime          = 10 * time.Minute
	smsOTPLifetime       = 2 * time.Minute
	defaultEmailOTPMins  = 10
	defaultMagicLinkMins = 60
	defaultInviteMins    = 10080
	m2mTokenLifetime     = time.Hour
)

type roleAssignment struct {
	Domain string `json:"domain"`
	RoleID string `json:"role_id"`
}

// organization is stored in its wire shape; slices are never nil so it
// always encodes to what the spec requires.
type organization struct {
	OrganizationID                       string           `json:"organization_id"`
	OrganizationName                     string           `json:"organization_name"`
	OrganizationLogoURL                  string           `json:"organization_logo_url"`
	OrganizationSlug                     string           `json:"organization_slug"`
	SSOJITProvisioning                   string           `json:"sso_jit_provisioning"`
	SSOJITProvisioningAllowedConnections []string         `json:"sso_jit_provisioning_allowed_connections"`
	SSOActiveConnections                 []any            `json:"sso_active_connections"`
	EmailAllowedDomains                  []string         `json:"email_allowed_domains"`
	EmailJITProvisioning                 string           `json:"email_jit_provisioning"`
	EmailInvites                         string           `json:"email_invites"`
	AuthMethods                          string           `json:"auth_methods"`
	AllowedAuthMethods                   []string         `json:"allowed_auth_methods"`
	MFAPolicy                            string           `json:"mfa_policy"`
	RBACEmailImplicitRoleAssignments     []roleAssignment `json:"rbac_email_implicit_role_assignments"`
	MFAMethods                           string           `json:"mfa_methods"`
	AllowedMFAMethods                    []string         `json:"allowed_mfa_methods"`
	OAuthTenantJITProvisioning           string           `json:"oauth_tenant_jit_provisioning"`
	ClaimedEmailDomains                  []string         `json:"claimed_email_domains"`
	FirstPartyConnectedAppsAllowedType   string           `json:"first_party_connected_apps_allowed_type"`
	AllowedFirstPartyConnectedApps       []string         `json:"allowed_first_party_connected_apps"`
	ThirdPartyConnectedAppsAllowedType   string           `json:"third_party_connected_apps_allowed_type"`
	AllowedThirdPartyConnectedApps       []string         `json:"allowed_third_party_connected_apps"`
	CustomRoles                          []rbac.Role      `json:"custom_roles"`
	TrustedMetadata                      map[string]any   `json:"trusted_metadata"`
	CreatedAt                            string           `json:"created_at"`
	UpdatedAt                            string           `json:"updated_at"`
	OrganizationExternalID               string           `json:"organization_external_id"`
	SSODefaultConnectionID               string           `json:"sso_default_connection_id"`
	AllowedOAuthTenants                  map[string]any   `json:"allowed_oauth_tenants"`
	// SCIMActiveConnection is set while the organization has a SCIM connection (scim.go).
	SCIMActiveConnection *activeSCIMConnection `json:"scim_active_connection,omitempty"`
}

func (o *organization) normalize() {
	nz := func(s *[]string) {
		if *s == nil {
			*s = []string{}
		}
	}
	nz(&o.SSOJITProvisioningAllowedConnections)
	nz(&o.EmailAllowedDomains)
	nz(&o.AllowedAuthMethods)
	nz(&o.AllowedMFAMethods)
	nz(&o.ClaimedEmailDomains)
	nz(&o.AllowedFirstPartyConnectedApps)
	nz(&o.AllowedThirdPartyConnectedApps)
	if o.SSOActiveConnections == nil {
		o.SSOActiveConnections = []any{}
	}
	if o.CustomRoles == nil {
		o.CustomRoles = []rbac.Role{}
	}
	if o.RBACEmailImplicitRoleAssignments == nil {
		o.RBACEmailImplicitRoleAssignments = []roleAssignment{}
	}
	if o.TrustedMetadata == nil {
		o.TrustedMetadata = map[string]any{}
	}
	if o.AllowedOAuthTenants == nil {
		o.AllowedOAuthTenants = map[string]any{}
	}
}

type roleSource struct {
	Type    string         `json:"type"`
	Details map[string]any `json:"details"` // {} when the source type has none
}

type memberRole struct {
	RoleID  string       `json:"role_id"`
	Sources []roleSource `json:"sources"`
}

type retiredEmail struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// member is stored in its wire shape; Roles and IsAdmin are derived on
// render from explicitRoles and the organization's implicit assignments.
type member struct {
	OrganizationID         string         `json:"organization_id"`
	MemberID               string         `json:"member_id"`
	EmailAddress           string         `json:"email_address"`
	Status                 string         `json:"status"`
	Name                   string         `json:"name"`
	SSORegistrations       []any          `json:"sso_registrations"`
	IsBreakglass           bool           `json:"is_breakglass"`
	MemberPasswordID       string         `json:"member_password_id"`
	OAuthRegistrations     []any          `json:"oauth_registrations"`
	EmailAddressVerified   bool           `json:"email_address_verified"`
	MFAPhoneNumberVerified bool           `json:"mfa_phone_number_verified"`
	IsAdmin                bool           `json:"is_admin"`
	TOTPRegistrationID     string         `json:"totp_registration_id"`
	RetiredEmailAddresses  []retiredEmail `json:"retired_email_addresses"`
	IsLocked               bool           `json:"is_locked"`
	MFAEnrolled            bool           `json:"mfa_enrolled"`
	MFAPhoneNumber         string         `json:"mfa_phone_number"`
	DefaultMFAMethod       string         `json:"default_mfa_method"`
	Roles                  []memberRole   `json:"roles"`
	TrustedMetadata        map[string]any `json:"trusted_metadata"`
	UntrustedMetadata      map[string]any `json:"untrusted_metadata"`
	CreatedAt              string         `json:"created_at"`
	UpdatedAt              string         `json:"updated_at"`
	ExternalID             string         `json:"external_id"`
	LockCreatedAt          string         `json:"lock_created_at"` // "": the emulator never locks a member
	LockExpiresAt          string         `json:"lock_expires_at"`

	explicitRoles []string
	ssoRegs       []ssoRegistration // sso_flow.go
	emailID       string
	phoneID       string
	pw            *storedPassword // the password behind MemberPasswordID; nil for a seeded record

	// pendingEmail is the new address of a started email update, until
	// pendingEmailExpiresAt (members_admin.go).
	pendingEmail          string
	pendingEmailExpiresAt time.Time
	// oidcTokens are the tokens saved from the member's OIDC logins.
	oidcTokens []OIDCTokens
}

type emailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

type phoneFactor struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
}

type factor struct {
	Type                string       `json:"type"`
	DeliveryMethod      string       `json:"delivery_method"`
	LastAuthenticatedAt string       `json:"last_authenticated_at"`
	CreatedAt           string       `json:"created_at"`
	UpdatedAt           string       `json:"updated_at"`
	EmailFactor         *emailFactor `json:"email_factor,omitempty"`
	PhoneNumberFactor   *phoneFactor `json:"phone_number_factor,omitempty"`

	EmbeddableMagicLinkFactor *embeddedFactor `json:"embeddable_magic_link_factor,omitempty"`
	OAuthFactor               *oauthFactor    `json:"-"` // written under the provider's name (consumer_oauth.go)

	AuthenticatorAppFactor *authenticatorAppFactor `json:"authenticator_app_factor,omitempty"`
	RecoveryCodeFactor     *recoveryCodeFactor     `json:"recovery_code_factor,omitempty"`
	CryptoWalletFactor     *cryptoWalletFactor     `json:"crypto_wallet_factor,omitempty"`
	WebAuthnFactor         *webauthnFactor         `json:"webauthn_factor,omitempty"`
	SAMLSSOFactor          *ssoFactor              `json:"saml_sso_factor,omitempty"`
	OIDCSSOFactor          *ssoFactor              `json:"oidc_sso_factor,omitempty"`
	TrustedAuthTokenFactor *trustedAuthTokenFactor `json:"trusted_auth_token_factor,omitempty"`
	ImpersonatedFactor     *impersonatedFactor     `json:"impersonated_factor,omitempty"`
	// AccessTokenExchangeFactor names the Connected App whose access token was exchanged (connected_apps_idp.go).
	AccessTokenExchangeFactor *accessTokenExchangeFactor `json:"oauth_access_token_exchange_factor,omitempty"`
}

type accessTokenExchangeFactor struct {
	ClientID string `json:"client_id"`
}

// trustedAuthTokenFactor is the factor of an attested trusted auth token (trusted_tokens.go).
type trustedAuthTokenFactor struct {
	TokenID string `json:"token_id"`
}

// impersonatedFactor names the dashboard user who impersonates the member (impersonation.go).
type impersonatedFactor struct {
	ImpersonatorID           string `json:"impersonator_id"`
	ImpersonatorEmailAddress string `json:"impersonator_email_address"`
}

// webauthnFactor is the factor of a passkey or security key (consumer_webauthn.go).
type webauthnFactor struct {
	WebAuthnRegistrationID string `json:"webauthn_registration_id"`
	Domain                 string `json:"domain"`
	UserAgent              string `json:"user_agent"`
}

// embeddedFactor is the factor of a consumer embeddable magic link.
type embeddedFactor struct {
	EmbeddedID string `json:"embedded_id"`
}

// isMFA reports whether f is a second factor: an SMS code, a TOTP code or a
// TOTP recovery code.
func (f factor) isMFA() bool {
	return f.Type == "otp" && f.DeliveryMethod == "sms" || f.Type == "totp" || f.Type == "recovery_codes"
}

type memberSession struct {
	sessionBase
	memberID string
	orgID    string
}

// sessionBase is what member and user sessions share: the parts of Stytch's
// session object and of its JWT's session claim that do not depend on the
// project type.
type sessionBase struct {
	id             string
	token          string
	startedAt      time.Time
	lastAccessedAt time.Time
	expiresAt      time.Time
	factors        []factor
	customClaims   map[string]any
}

// startSession is a session that starts at now and lasts d.
func startSession(id, token string, factors []factor, d time.Duration, claims map[string]any, now time.Time) sessionBase {
	return sessionBase{
		id: id, token: token, startedAt: now, lastAccessedAt: now, expiresAt: now.Add(d),
		factors: factors, customClaims: claims,
	}
}

// compare orders sessions by start, then ID: how session lists are sorted.
func (s *sessionBase) compare(o *sessionBase) int {
	if c := s.startedAt.Compare(o.startedAt); c != 0 {
		return c
	}
	return strings.Compare(s.id, o.id)
}

// intermediateSession is an IST: primary factors collected before MFA or
// before choosing an organization (orgID "" for discovery).
type intermediateSession struct {
	token     string
	email     string
	orgID     string
	memberID  string
	factors   []factor
	expiresAt time.Time
}

type magicLink struct {
	token         string
	template      string
	orgID         string
	memberID      string
	email         string
	expiresAt     time.Time
	used          bool
	pkceChallenge string
}

type otpCode struct {
	code      string
	template  string // TemplateLogin/TemplateSignup, TemplateDiscovery or TemplateMFA
	orgID     string
	memberID  string
	email     string
	phone     string
	expiresAt time.Time
	used      bool
}

type m2mClient struct {
	ClientID          string
	ClientName        string
	ClientDescription string
	Status            string
	Scopes            []string
	TrustedMetadata   map[string]any
	secret            string
	nextSecret        string
	customClaims      map[string]any
}

type store struct {
	orgs           map[string]*organization
	orgOrder       []string
	members        map[string]*member
	memberOrder    []string
	sessions       map[string]*memberSession
	sessionByToken map[string]string
	ists           map[string]*intermediateSession
	memberResets   map[string]*memberReset // password reset token -> reset
	magicLinks     map[string]*magicLink
	emailOTPs      []*otpCode
	smsOTPs        map[string]*otpCode // by member ID: a new send replaces the old code
	m2m            map[string]*m2mClient
	m2mOrder       []string
	passwords      map[string]string      // member_password_id -> member_id
	totps          map[string]*memberTOTP // by member ID (b2b_totps.go)
	sso            map[string]*ssoConn    // by connection ID (sso.go)
	ssoOrder       []string
	ssoTokens      map[string]*ssoToken       // sso_token -> pending login (sso_flow.go)
	ssoStates      map[string]*ssoState       // relay state / OIDC state -> started sign-in
	scim           map[string]*scimConnection // by organization ID: one each (scim.go)
	// usedTrustedTokens holds each attested trusted auth token (profile and token ID), so a
	// token attests once (trusted_tokens.go).
	usedTrustedTokens map[string]time.Time
	impersonations    map[string]*impersonationToken // by token (impersonation.go)
}

func newStore() *store {
	return &store{
		orgs:           map[string]*organization{},
		members:        map[string]*member{},
		sessions:       map[string]*memberSession{},
		sessionByToken: map[string]string{},
		ists:           map[string]*intermediateSession{},
		memberResets:   map[string]*memberReset{},
		magicLinks:     map[string]*magicLink{},
		smsOTPs:        map[string]*otpCode{},
		m2m:            map[string]*m2mClient{},
		passwords:      map[string]string{},
		totps:          map[string]*memberTOTP{},
		sso:            map[string]*ssoConn{},
		ssoTokens:      map[string]*ssoToken{},
		ssoStates:      map[string]*ssoState{},
		scim:           map[string]*scimConnection{},

		usedTrustedTokens: map[string]time.Time{},
		impersonations:    map[string]*impersonationToken{},
	}
}

// findOrg resolves an organization ID, slug or external ID.
func (s *store) findOrg(ref string) *organization {
	if ref == "" {
		return nil
	}
	if o, ok := byID(s.orgs, ref); ok {
		return o
	}
	for _, id := range s.orgOrder {
		o := s.orgs[id]
		if o.OrganizationSlug == ref || (o.OrganizationExternalID != "" && o.OrganizationExternalID == ref) {
			return o
		}
	}
	return nil
}

// byID looks an ID up as Stytch resolves IDs: in any letter case. Stytch generates IDs in lower
// case; the exact key is tried first because a caller-chosen M2M client ID keeps its own case.
// Slugs and external IDs are compared exactly.
func byID[V any](m map[string]V, id string) (V, bool) {
	if v, ok := m[id]; ok {
		return v, true
	}
	v, ok := m[strings.ToLower(id)]
	return v, ok
}

// findMember resolves a member ID or external ID inside an organization.
// Deleted members are found only with includeDeleted.
func (s *store) findMember(orgID, ref string, includeDeleted bool) *member {
	if ref == "" {
		return nil
	}
	m, ok := byID(s.members, ref)
	if !ok {
		for _, id := range s.memberOrder {
			c := s.members[id]
			if c.OrganizationID == orgID && c.ExternalID != "" && c.ExternalID == ref {
				m, ok = c, true
				break
			}
		}
	}
	if !ok || (orgID != "" && m.OrganizationID != orgID) || (!includeDeleted && m.Status == statusDeleted) {
		return nil
	}
	return m
}

func (s *store) memberByEmail(orgID, email string) *member {
	for _, id := range s.memberOrder {
		m := s.members[id]
		if m.OrganizationID == orgID && m.Status != statusDeleted && strings.EqualFold(m.EmailAddress, email) {
			return m
		}
	}
	return nil
}

func (s *store) addOrg(o *organization) {
	o.normalize()
	s.orgs[o.OrganizationID] = o
	s.orgOrder = append(s.orgOrder, o.OrganizationID)
}

func (s *store) addMember(m *member) {
	s.members[m.MemberID] = m
	s.memberOrder = append(s.memberOrder, m.MemberID)
}

func (s *store) deleteSessionsOf(memberID string) {
	for id, ss := range s.sessions {
		if ss.memberID == memberID {
			delete(s.sessionByToken, ss.token)
			delete(s.sessions, id)
		}
	}
}

func (s *store) deleteSession(ss *memberSession) {
	delete(s.sessionByToken, ss.token)
	delete(s.sessions, ss.id)
}

// render fills the derived fields of m and returns it for encoding.
func (s *store) render(m *member) *member {
	org := s.orgs[m.OrganizationID]
	var roles []memberRole
	add := func(id string, src roleSource) {
		for i := range roles {
			if roles[i].RoleID == id {
				roles[i].Sources = append(roles[i].Sources, src)
				return
			}
		}
		if src.Details == nil {
			src.Details = map[string]any{}
		}
		roles = append(roles, memberRole{RoleID: id, Sources: []roleSource{src}})
	}
	// Every member holds stytch_member; Stytch reports it as a direct assignment.
	add(RoleMember, roleSource{Type: "direct_assignment"})
	for _, r := range m.explicitRoles {
		if r != RoleMember {
			add(r, roleSource{Type: "direct_assignment"})
		}
	}
	if org != nil {
		domain := emailDomain(m.EmailAddress)
		for _, a := range org.RBACEmailImplicitRoleAssignments {
			if strings.EqualFold(a.Domain, domain) {
				add(a.RoleID, roleSource{Type: "email_assignment", Details: map[string]any{"email_domain": a.Domain}})
			}
		}
	}
	regs := make([]any, 0, len(m.ssoRegs))
	for _, reg := range m.ssoRegs {
		regs = append(regs, obj{
			"connection_id": reg.connectionID, "external_id": reg.externalID,
			"registration_id": reg.registrationID, "sso_attributes": nonNilMap(reg.attributes),
		})
		c := s.sso[reg.connectionID]
		if c == nil {
			continue
		}
		for _, r := range c.connRoles {
			add(r.RoleID, roleSource{Type: "sso_connection", Details: map[string]any{"connection_id": c.ConnectionID}})
		}
		for _, g := range c.groupRoles {
			if slices.Contains(reg.groups, g.Group) {
				add(g.RoleID, roleSource{Type: "sso_connection_group", Details: map[string]any{"connection_id": c.ConnectionID, "group": g.Group}})
			}
		}
	}
	m.SSORegistrations = regs
	m.Roles = roles
	m.IsAdmin = slices.ContainsFunc(roles, func(r memberRole) bool { return r.RoleID == RoleAdmin })
	if m.SSORegistrations == nil {
		m.SSORegistrations = []any{}
	}
	if m.OAuthRegistrations == nil {
		m.OAuthRegistrations = []any{}
	}
	if m.RetiredEmailAddresses == nil {
		m.RetiredEmailAddresses = []retiredEmail{}
	}
	if m.TrustedMetadata == nil {
		m.TrustedMetadata = map[string]any{}
	}
	if m.UntrustedMetadata == nil {
		m.UntrustedMetadata = map[string]any{}
	}
	return m
}

func (s *store) roleIDs(m *member) []string {
	s.render(m)
	out := make([]string, 0, len(m.Roles))
	for _, r := range m.Roles {
		out = append(out, r.RoleID)
	}
	return out
}

func emailDomain(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return strings.ToLower(d)
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(emailDomain(s), ".")
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func validPhone(s string) bool { return e164.MatchString(s) }

var slugRE = regexp.MustCompile(`^[A-Za-z0-9\-._~]{2,128}$`)

// lastFour is what the API shows of a secret.
func lastFour(s string) string {
	if len(s) <= 4 {
		return s
	}
	return s[len(s)-4:]
}

func (c *m2mClient) wire() obj {
	o := obj{
		"client_id":               c.ClientID,
		"client_name":             c.ClientName,
		"client_description":      c.ClientDescription,
		"status":                  c.Status,
		"scopes":                  nonNil(c.Scopes),
		"client_secret_last_four": lastFour(c.secret),
		"trusted_metadata":        nonNilMap(c.TrustedMetadata),
		// "" when no rotation has started, as every absent string of the emulator
		"next_client_secret_last_four": "",
	}
	if c.nextSecret != "" {
		o["next_client_secret_last_four"] = lastFour(c.nextSecret)
	}
	return o
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
