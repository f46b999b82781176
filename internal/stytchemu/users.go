package stytchemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// RoleUser is the role every consumer user holds under Stytch's default RBAC policy.
const RoleUser = "stytch_user"

// Consumer lifetimes (docs/stytch.md): magic links 5..10080 minutes (login and
// embeddable default 60, sign-up default 10080, invite default 60); OTP codes
// 1..10 minutes, default 2.
const (
	defaultSignupLinkMins   = 10080
	defaultConsumerInvite   = 60
	minConsumerOTPMins      = 1
	maxConsumerOTPMins      = 10
	defaultConsumerOTPMins  = 2
	sandboxOTPCode          = "000000"
	consumerSessionIDPrefix = "session-test-"
)

// SandboxUserID is the consumer sandbox user (sandbox@stytch.com, phone
// SandboxPhoneNumber), seeded in consumer projects built with WithSandbox.
const SandboxUserID = "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd"

type userName struct {
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
}

type userEmail struct {
	EmailID  string `json:"email_id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

type userPhone struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
	Verified    bool   `json:"verified"`
}

// Factor kinds a user can hold besides emails and phones. WebAuthn
// registrations come from the WebAuthn routes (consumer_webauthn.go) or, as
// records with no credential behind them, from SeedUserFactor, which alone
// creates the other four.
const (
	FactorPassword  = "password"
	FactorTOTP      = "totp"
	FactorWebAuthn  = "webauthn_registration"
	FactorOAuth     = "oauth"
	FactorCrypto    = "crypto_wallet"
	FactorBiometric = "biometric_registration"
)

// seededFactor is a TOTP, WebAuthn, OAuth, crypto-wallet or biometric record
// in its wire shape.
type seededFactor struct {
	kind string
	id   string
	wire obj
}

type user struct {
	id                string
	externalID        string
	status            string
	name              userName
	emails            []*userEmail
	phones            []*userPhone
	passwordID        string
	password          *storedPassword // nil for a seeded password (SeedUserFactor)
	factors           []seededFactor
	roles             []string
	trustedMetadata   map[string]any
	untrustedMetadata map[string]any
	createdAt         time.Time
}

type userSession struct {
	sessionBase
	userID string
}

// userLink is a consumer magic-link token (emailed or embeddable).
type userLink struct {
	token     string
	template  string // TemplateLogin, TemplateSignup, TemplateInvite or templateEmbedded
	userID    string
	emailID   string
	expiresAt time.Time
	used      bool
	pkce      string
}

const templateEmbedded = "embedded"

// userOTP is the single live code of one delivery method (method_id).
type userOTP struct {
	code      string
	methodID  string
	userID    string
	channel   string // KindEmail, KindSMS or KindWhatsApp
	expiresAt time.Time
	used      bool
}

// consumerStore is the consumer half of the state.
type consumerStore struct {
	users          map[string]*user
	userOrder      []string
	sessions       map[string]*userSession
	sessionByToken map[string]string
	links          map[string]*userLink
	otps           map[string]*userOTP // by method_id
	migrations     map[string]string   // external token -> email
	resets         map[string]*passwordReset
	totps          map[string]*userTOTP        // by user ID (consumer_totps.go)
	walletChalls   map[string]*walletChallenge // by wallet (consumer_crypto_wallets.go)
	webauthn       *webauthnStore              // consumer_webauthn.go
}

func newConsumerStore() *consumerStore {
	return &consumerStore{
		users:          map[string]*user{},
		sessions:       map[string]*userSession{},
		sessionByToken: map[string]string{},
		links:          map[string]*userLink{},
		otps:           map[string]*userOTP{},
		migrations:     map[string]string{},
		resets:         map[string]*passwordReset{},
		totps:          map[string]*userTOTP{},
		walletChalls:   map[string]*walletChallenge{},
		webauthn:       newWebAuthnStore(),
	}
}

func userNotFound() *apiError {
	return newErr(http.StatusNotFound, errUserNotFound, "User could not be found.")
}

// findUser resolves a user ID (any letter case) or external ID (exact).
func (s *consumerStore) findUser(ref string) *user {
	if ref == "" {
		return nil
	}
	if u, ok := byID(s.users, ref); ok {
		return u
	}
	for _, id := range s.userOrder {
		if u := s.users[id]; u.externalID != "" && u.externalID == ref {
			return u
		}
	}
	return nil
}

// userByEmail finds the user holding email (case-insensitive) and that email record.
func (s *consumerStore) userByEmail(email string) (*user, *userEmail) {
	for _, id := range s.userOrder {
		u := s.users[id]
		for _, em := range u.emails {
			if strings.EqualFold(em.Email, email) {
				return u, em
			}
		}
	}
	return nil, nil
}

func (s *consumerStore) userByPhone(phone string) (*user, *userPhone) {
	for _, id := range s.userOrder {
		u := s.users[id]
		for _, p := range u.phones {
			if p.PhoneNumber == phone {
				return u, p
			}
		}
	}
	return nil, nil
}

// userByMethod finds the user and delivery factor behind an email_id or phone_id.
func (s *consumerStore) userByMethod(methodID string) (*user, *userEmail, *userPhone) {
	for _, id := range s.userOrder {
		u := s.users[id]
		for _, em := range u.emails {
			if strings.EqualFold(em.EmailID, methodID) {
				return u, em, nil
			}
		}
		for _, p := range u.phones {
			if strings.EqualFold(p.PhoneID, methodID) {
				return u, nil, p
			}
		}
	}
	return nil, nil, nil
}

func (s *consumerStore) addUser(u *user) {
	s.users[u.id] = u
	s.userOrder = append(s.userOrder, u.id)
}

func (s *consumerStore) deleteUser(u *user) {
	delete(s.users, u.id)
	s.userOrder = slices.DeleteFunc(s.userOrder, func(id string) bool { return id == u.id })
	s.deleteSessionsOf(u.id)
	for tok, l := range s.links {
		if l.userID == u.id {
			delete(s.links, tok)
		}
	}
	for id, c := range s.otps {
		if c.userID == u.id {
			delete(s.otps, id)
		}
	}
	for tok, r := range s.resets {
		if r.userID == u.id {
			delete(s.resets, tok)
		}
	}
}

func (s *consumerStore) deleteSessionsOf(userID string) {
	for id, ss := range s.sessions {
		if ss.userID == userID {
			delete(s.sessionByToken, ss.token)
			delete(s.sessions, id)
		}
	}
}

func (s *consumerStore) deleteSession(ss *userSession) {
	delete(s.sessionByToken, ss.token)
	delete(s.sessions, ss.id)
}

func newEmail(addr string) *userEmail {
	return &userEmail{EmailID: "email-test-" + newUUID(), Email: addr}
}

func newPhone(num string) *userPhone {
	return &userPhone{PhoneID: "phone-number-test-" + newUUID(), PhoneNumber: num}
}

func (u *user) roleIDs() []string {
	out := []string{RoleUser}
	for _, r := range u.roles {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (u *user) factorsOf(kind string) []obj {
	out := []obj{}
	for _, f := range u.factors {
		if f.kind == kind {
			out = append(out, f.wire)
		}
	}
	return out
}

// wire is the User object (api_user_v1_User).
func (u *user) wire() obj {
	emails := make([]userEmail, 0, len(u.emails))
	for _, e := range u.emails {
		emails = append(emails, *e)
	}
	phones := make([]userPhone, 0, len(u.phones))
	for _, p := range u.phones {
		phones = append(phones, *p)
	}
	o := obj{
		"user_id":                 u.id,
		"emails":                  emails,
		"status":                  u.status,
		"phone_numbers":           phones,
		"webauthn_registrations":  u.factorsOf(FactorWebAuthn),
		"providers":               u.factorsOf(FactorOAuth),
		"totps":                   u.factorsOf(FactorTOTP),
		"crypto_wallets":          u.factorsOf(FactorCrypto),
		"biometric_registrations": u.factorsOf(FactorBiometric),
		"is_locked":               false,
		"roles":                   u.roleIDs(),
		"name":                    u.name,
		"created_at":              rfc3339(u.createdAt),
		"trusted_metadata":        nonNilMap(u.trustedMetadata),
		"untrusted_metadata":      nonNilMap(u.untrustedMetadata),
		"external_id":             u.externalID,
		"lock_created_at":         "", // the emulator never locks a user (is_locked is false)
		"lock_expires_at":         "",
	}
	if u.passwordID != "" {
		o["password"] = obj{"password_id": u.passwordID, "requires_reset": u.password != nil && u.password.requiresReset}
	}
	return o
}

// userInput is what user creation accepts (HTTP and Go helper alike).
type userInput struct {
	Email             string         `json:"email"`
	PhoneNumber       string         `json:"phone_number"`
	Name              *userName      `json:"name"`
	CreateAsPending   bool           `json:"create_user_as_pending"`
	TrustedMetadata   map[string]any `json:"trusted_metadata"`
	UntrustedMetadata map[string]any `json:"untrusted_metadata"`
	ExternalID        string         `json:"external_id"`
	Roles             []string       `json:"roles"`
}

func invalidEmail() *apiError {
	return newErr(http.StatusBadRequest, errInvalidEmail, "email is not a valid email address.")
}

func invalidPhone() *apiError {
	return newErr(http.StatusBadRequest, errInvalidPhoneNumber, "phone_number must be in E.164 format.")
}

// createUser validates and stores a new user. Caller holds e.mu.
func (e *Emulator) createUser(in userInput, now time.Time) (*user, *apiError) {
	if in.Email == "" && in.PhoneNumber == "" {
		return nil, badRequest("An email or a phone_number is required.")
	}
	if in.Email != "" && !validEmail(in.Email) {
		return nil, invalidEmail()
	}
	if in.PhoneNumber != "" && !validPhone(in.PhoneNumber) {
		return nil, invalidPhone()
	}
	if in.Email != "" {
		if u, _ := e.cs.userByEmail(in.Email); u != nil {
			return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "A user with this email already exists.")
		}
	}
	if in.PhoneNumber != "" {
		if u, _ := e.cs.userByPhone(in.PhoneNumber); u != nil {
			return nil, newErr(http.StatusBadRequest, errDuplicatePhone, "A user with this phone number already exists.")
		}
	}
	if aerr := e.checkUserExternalID(in.ExternalID, ""); aerr != nil {
		return nil, aerr
	}
	u := &user{
		id: "user-test-" + newUUID(), externalID: in.ExternalID, status: statusActive,
		roles: slices.Clone(in.Roles), trustedMetadata: in.TrustedMetadata,
		untrustedMetadata: in.UntrustedMetadata, createdAt: now,
	}
	if in.CreateAsPending {
		u.status = statusPending
	}
	if in.Name != nil {
		u.name = *in.Name
	}
	if in.Email != "" {
		u.emails = []*userEmail{newEmail(in.Email)}
	}
	if in.PhoneNumber != "" {
		u.phones = []*userPhone{newPhone(in.PhoneNumber)}
	}
	e.cs.addUser(u)
	return u, nil
}

func (e *Emulator) checkUserExternalID(id, selfID string) *apiError {
	if id == "" {
		return nil
	}
	if !externalIDRE.MatchString(id) {
		return badRequest("external_id may hold only letters, digits, '.', '_', '-' and '|', at most 128 characters.")
	}
	for _, uid := range e.cs.userOrder {
		if u := e.cs.users[uid]; u.id != selfID && u.externalID == id {
			return newErr(http.StatusBadRequest, errDuplicateExternalID, "Another user already has this external_id.")
		}
	}
	return nil
}

func (e *Emulator) userCreate(rq *request) (any, error) {
	var in userInput
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	u, aerr := e.createUser(in, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	emailID, phoneID := "", ""
	if len(u.emails) > 0 {
		emailID = u.emails[0].EmailID
	}
	if len(u.phones) > 0 {
		phoneID = u.phones[0].PhoneID
	}
	return obj{"user_id": u.id, "email_id": emailID, "phone_id": phoneID, "status": u.status, "user": u.wire()}, nil
}

func (e *Emulator) pathUser(rq *request) (*user, *apiError) {
	u := e.cs.findUser(rq.r.PathValue("user_id"))
	if u == nil {
		return nil, userNotFound()
	}
	return u, nil
}

func (e *Emulator) userGet(rq *request) (any, error) {
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	return u.wire(), nil
}

func (e *Emulator) userUpdate(rq *request) (any, error) {
	var in struct {
		Name              *userName      `json:"name"`
		TrustedMetadata   map[string]any `json:"trusted_metadata"`
		UntrustedMetadata map[string]any `json:"untrusted_metadata"`
		ExternalID        *string        `json:"external_id"`
		Roles             []string       `json:"roles"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	if in.ExternalID != nil {
		if aerr := e.checkUserExternalID(*in.ExternalID, u.id); aerr != nil {
			return nil, aerr
		}
		u.externalID = *in.ExternalID
	}
	if in.Name != nil {
		u.name = *in.Name
	}
	if in.TrustedMetadata != nil {
		u.trustedMetadata = in.TrustedMetadata
	}
	if in.UntrustedMetadata != nil {
		u.untrustedMetadata = in.UntrustedMetadata
	}
	if in.Roles != nil {
		u.roles = slices.Clone(in.Roles)
	}
	w := u.wire()
	return obj{
		"user_id": u.id, "emails": w["emails"], "phone_numbers": w["phone_numbers"],
		"crypto_wallets": w["crypto_wallets"], "user": w,
	}, nil
}

func (e *Emulator) userDelete(rq *request) (any, error) {
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	e.cs.deleteUser(u)
	rq.event("user", "DELETE", u.id, obj{"user_id": u.id})
	return obj{"user_id": u.id}, nil
}

// userFactorDelete builds the handler of DELETE /v1/users/<kind>/{param}.
func (e *Emulator) userFactorDelete(kind, param, errType, what string) handlerFunc {
	return func(rq *request) (any, error) {
		id := rq.r.PathValue(param)
		for _, uid := range e.cs.userOrder {
			u := e.cs.users[uid]
			if u.removeFactor(kind, id) {
				if kind == KindEmail || kind == KindSMS {
					delete(e.cs.otps, strings.ToLower(id))
					delete(e.cs.otps, id)
				}
				return obj{"user_id": u.id, "user": u.wire()}, nil
			}
		}
		return nil, newErr(http.StatusNotFound, errType, "%s could not be found.", what)
	}
}

// removeFactor deletes the factor of kind with id (any letter case) and
// reports whether it was there. Kinds: KindEmail, KindSMS (phone numbers),
// FactorPassword and the seeded kinds.
func (u *user) removeFactor(kind, id string) bool {
	switch kind {
	case KindEmail:
		n := len(u.emails)
		u.emails = slices.DeleteFunc(u.emails, func(x *userEmail) bool { return strings.EqualFold(x.EmailID, id) })
		return len(u.emails) != n
	case KindSMS:
		n := len(u.phones)
		u.phones = slices.DeleteFunc(u.phones, func(x *userPhone) bool { return strings.EqualFold(x.PhoneID, id) })
		return len(u.phones) != n
	case FactorPassword:
		if u.passwordID != "" && strings.EqualFold(u.passwordID, id) {
			u.passwordID, u.password = "", nil
			return true
		}
		return false
	default:
		n := len(u.factors)
		u.factors = slices.DeleteFunc(u.factors, func(f seededFactor) bool { return f.kind == kind && strings.EqualFold(f.id, id) })
		return len(u.factors) != n
	}
}

// userExchangePrimaryFactor swaps the only factor of a user for a new email
// address or phone number.
func (e *Emulator) userExchangePrimaryFactor(rq *request) (any, error) {
	var in struct {
		EmailAddress string `json:"email_address"`
		PhoneNumber  string `json:"phone_number"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case (in.EmailAddress == "") == (in.PhoneNumber == ""):
		return nil, badRequest("Exactly one of email_address or phone_number is required.")
	case in.EmailAddress != "" && !validEmail(in.EmailAddress):
		return nil, invalidEmail()
	case in.PhoneNumber != "" && !validPhone(in.PhoneNumber):
		return nil, invalidPhone()
	}
	n := len(u.emails) + len(u.phones) + len(u.factors)
	if u.passwordID != "" {
		n++
	}
	if n != 1 {
		return nil, badRequest("exchange_primary_factor works only for a user with exactly one factor; this user has %d.", n).withType(errTooManyFactors)
	}
	if in.EmailAddress != "" {
		if o, _ := e.cs.userByEmail(in.EmailAddress); o != nil && o != u {
			return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "A user with this email already exists.")
		}
		u.emails, u.phones, u.factors, u.passwordID, u.password = []*userEmail{newEmail(in.EmailAddress)}, nil, nil, "", nil
	} else {
		if o, _ := e.cs.userByPhone(in.PhoneNumber); o != nil && o != u {
			return nil, newErr(http.StatusBadRequest, errDuplicatePhone, "A user with this phone number already exists.")
		}
		u.emails, u.phones, u.factors, u.passwordID, u.password = nil, []*userPhone{newPhone(in.PhoneNumber)}, nil, "", nil
	}
	for id, c := range e.cs.otps {
		if c.userID == u.id {
			delete(e.cs.otps, id)
		}
	}
	return obj{"user_id": u.id, "user": u.wire()}, nil
}

// userSearch implements POST /v1/users/search (see doc.go for the filters).
func (e *Emulator) userSearch(rq *request) (any, error) {
	var in searchRequest
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	pred, aerr := compileQuery(in.Query, userFilters(rq.now))
	if aerr != nil {
		return nil, aerr
	}
	var hits []*user
	for _, id := range e.cs.userOrder {
		if u := e.cs.users[id]; pred(u) {
			hits = append(hits, u)
		}
	}
	page, meta, aerr := paginate(hits, in.Cursor, in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	results := make([]obj, 0, len(page))
	for _, u := range page {
		results = append(results, u.wire())
	}
	return obj{"results": results, "results_metadata": meta}, nil
}

func userFilters(_ time.Time) map[string]filterFunc {
	anyEmail := func(test func(*userEmail) bool) func(any) bool {
		return func(x any) bool { return slices.ContainsFunc(x.(*user).emails, test) }
	}
	anyPhone := func(test func(*userPhone) bool) func(any) bool {
		return func(x any) bool { return slices.ContainsFunc(x.(*user).phones, test) }
	}
	listFilter := func(match func(u *user, v string) bool) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			list, err := stringList(v)
			if err != nil {
				return nil, err
			}
			return func(x any) bool {
				return slices.ContainsFunc(list, func(s string) bool { return match(x.(*user), s) })
			}, nil
		}
	}
	boolFilter := func(get func(u *user) bool) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			b, err := boolValue(v)
			if err != nil {
				return nil, err
			}
			return func(x any) bool { return get(x.(*user)) == b }, nil
		}
	}
	timeFilter := func(after bool) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, errBadFilterValue
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return nil, errBadFilterValue
			}
			return func(x any) bool {
				if after {
					return x.(*user).createdAt.After(t)
				}
				return x.(*user).createdAt.Before(t)
			}, nil
		}
	}
	fuzzyFilter := func(get func(u *user) []string) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			f, err := fuzzy(v)
			if err != nil {
				return nil, err
			}
			return func(x any) bool {
				return slices.ContainsFunc(get(x.(*user)), func(s string) bool { return strings.Contains(strings.ToLower(s), f) })
			}, nil
		}
	}
	return map[string]filterFunc{
		"user_id": listFilter(func(u *user, v string) bool { return strings.EqualFold(u.id, v) }),
		"status":  listFilter(func(u *user, v string) bool { return u.status == v }),
		"email_address": listFilter(func(u *user, v string) bool {
			return anyEmail(func(e *userEmail) bool { return strings.EqualFold(e.Email, v) })(u)
		}),
		"email_id": listFilter(func(u *user, v string) bool {
			return anyEmail(func(e *userEmail) bool { return strings.EqualFold(e.EmailID, v) })(u)
		}),
		"email_domain": listFilter(func(u *user, v string) bool {
			return anyEmail(func(e *userEmail) bool { return emailDomain(e.Email) == strings.ToLower(v) })(u)
		}),
		"email_address_fuzzy": fuzzyFilter(func(u *user) []string {
			out := []string{}
			for _, e := range u.emails {
				out = append(out, e.Email)
			}
			return out
		}),
		"email_verified": boolFilter(func(u *user) bool { return anyEmail(func(e *userEmail) bool { return e.Verified })(u) }),
		"phone_number": listFilter(func(u *user, v string) bool {
			return anyPhone(func(p *userPhone) bool { return p.PhoneNumber == v })(u)
		}),
		"phone_id": listFilter(func(u *user, v string) bool {
			return anyPhone(func(p *userPhone) bool { return strings.EqualFold(p.PhoneID, v) })(u)
		}),
		"phone_number_fuzzy": fuzzyFilter(func(u *user) []string {
			out := []string{}
			for _, p := range u.phones {
				out = append(out, p.PhoneNumber)
			}
			return out
		}),
		"phone_verified": boolFilter(func(u *user) bool { return anyPhone(func(p *userPhone) bool { return p.Verified })(u) }),
		"full_name_fuzzy": fuzzyFilter(func(u *user) []string {
			return []string{u.name.FirstName + " " + u.name.MiddleName + " " + u.name.LastName}
		}),
		"password_exists":         boolFilter(func(u *user) bool { return u.passwordID != "" }),
		"roles":                   listFilter(func(u *user, v string) bool { return slices.Contains(u.roleIDs(), v) }),
		"created_at_greater_than": timeFilter(true),
		"created_at_less_than":    timeFilter(false),
	}
}
