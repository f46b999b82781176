package stytchemu

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/passwords"
)

// Consumer passwords (POST /v1/passwords/...). The hashing, the verification
// of migrated hashes and the strength policy are internal/passwords'; this
// file is the HTTP half: who may set or prove a password and what answers.

// Password error types. weak_password, breached_password and reset_password
// are the names Stytch's password guides give; session_too_old_to_reset_password
// is the type of Stytch's error reference for a session reset whose session
// holds no recent email or password factor.
const (
	errWeakPassword     = "weak_password"
	errBreachedPassword = "breached_password"
	errResetPassword    = "reset_password"
	errSessionTooOld    = "session_too_old_to_reset_password"
)

// Password reset email lifetimes: 5 minutes to 7 days, default 30.
const (
	defaultResetMins = 30
	minResetMins     = 5
	maxResetMins     = 10080
	// sessionResetWindow is how recent a session's email or password factor
	// must be for POST /v1/passwords/session/reset.
	sessionResetWindow = 5 * time.Minute
)

// TemplateResetPassword is the template of a password reset email; its
// Method is MethodMagicLink (the email carries a magic-link style token).
const TemplateResetPassword = "reset_password"

// WithPasswordPolicy sets the consumer project's password strength policy
// (default passwords.DefaultPolicy: zxcvbn with breach detection, as
// Stytch's default).
func WithPasswordPolicy(p passwords.Policy) Option {
	return func(c *config) { c.pwPolicy = &p }
}

// WithPasswordHashParams sets the argon2id costs of stored passwords
// (default passwords.TestParams: cheap, as an emulator holds test data).
func WithPasswordHashParams(p passwords.Params) Option {
	return func(c *config) { c.pwParams = &p }
}

// passwordKit is a project's hasher and strength checker. The checker is
// built on first use: most emulators never see a password.
type passwordKit struct {
	hasher  *passwords.Hasher
	limits  passwords.Limits
	checker func() (*passwords.Checker, error)
}

func newPasswordKit(policy *passwords.Policy, params *passwords.Params) (*passwordKit, error) {
	pol, par := passwords.DefaultPolicy(), passwords.TestParams()
	if policy != nil {
		pol = *policy
	}
	if params != nil {
		par = *params
	}
	if err := pol.Validate(); err != nil {
		return nil, fmt.Errorf("stytchemu: %w", err)
	}
	h, err := passwords.NewHasher(par)
	if err != nil {
		return nil, fmt.Errorf("stytchemu: %w", err)
	}
	return &passwordKit{
		hasher:  h,
		limits:  passwords.DefaultLimits(),
		checker: sync.OnceValues(func() (*passwords.Checker, error) { return passwords.NewChecker(pol) }),
	}, nil
}

// storedPassword is a user's password: a native hash, or an imported hash
// until the first successful authenticate replaces it with a native one.
type storedPassword struct {
	id            string
	hash          string
	imported      *passwords.Imported
	requiresReset bool
}

// verify checks password against the stored hash. rehash is the native hash
// to store in place of the current one (after a migrated hash matched, or
// when the native parameters changed), "" when none is due.
func (k *passwordKit) verify(sp *storedPassword, password string) (ok bool, rehash string, err error) {
	switch {
	case sp == nil:
		return false, "", nil
	case sp.imported != nil:
		stored, ok, err := k.hasher.Upgrade(sp.imported, password)
		return ok, stored, err
	case sp.hash == "":
		return false, "", nil // a seeded password (SeedUserFactor) has no hash to match
	}
	ok, err = k.hasher.Verify(sp.hash, password)
	if err != nil || !ok {
		return false, "", err
	}
	if k.hasher.NeedsRehash(sp.hash) {
		if rehash, err = k.hasher.Hash(password); err != nil {
			return false, "", err
		}
	}
	return true, rehash, nil
}

// resetStart checks what a password reset start (consumer or B2B) asks of its email: the expiry,
// the locale and the redirect URL (the project's default when empty), which it returns parsed.
func (e *Emulator) resetStart(expirationMinutes *int, locale, redirect string) (time.Duration, *url.URL, *apiError) {
	ttl, aerr := expiryMinutes("reset_password_expiration_minutes", expirationMinutes, defaultResetMins, minResetMins, maxResetMins)
	if aerr != nil {
		return 0, nil, aerr
	}
	switch locale {
	case "", "en", "es", "pt-br", "fr":
	default:
		return 0, nil, badRequest("locale must be one of en, es, pt-br, fr.")
	}
	if redirect == "" {
		redirect = e.redirectURL
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" || ru.Host == "" {
		return 0, nil, badRequest("The redirect URL is not a valid absolute URL.")
	}
	return ttl, ru, nil
}

// withToken adds a new token of tokenType to the emailed link ru, and returns the token.
func withToken(ru *url.URL, tokenType string) string {
	tok := randToken(32)
	q := ru.Query()
	q.Set("stytch_token_type", tokenType)
	q.Set("token", tok)
	ru.RawQuery = q.Encode()
	return tok
}

// login checks password at a login (consumer or B2B): wrongCredentials for
// no stored password or a wrong one; on a match, a due rehash replaces the
// stored hash, and the breach list is checked again, as Stytch does at login:
// a password on it (an imported one, typically) must be reset before it can
// be used (reset_password).
func (k *passwordKit) login(sp *storedPassword, password string) error {
	ok, rehash, err := k.verify(sp, password)
	if err != nil && !errors.Is(err, passwords.ErrMalformedHash) {
		return err
	}
	if !ok {
		return wrongCredentials()
	}
	if rehash != "" {
		sp.hash, sp.imported = rehash, nil
	}
	if !sp.requiresReset {
		c, err := k.checker()
		if err != nil {
			return err
		}
		sp.requiresReset = c.Policy().BreachDetection && c.Breached(password)
	}
	if sp.requiresReset {
		return newErr(http.StatusBadRequest, errResetPassword, "This password must be reset before it can be used.")
	}
	return nil
}

// checkNew applies the strength policy to a password about to be stored:
// breached_password for one on the list, weak_password for one below the
// policy. The messages never repeat the password.
func (k *passwordKit) checkNew(password, email string) (*apiError, error) {
	if password == "" {
		return badRequest("password is required."), nil
	}
	c, err := k.checker()
	if err != nil {
		return nil, err
	}
	res := c.Check(password, email)
	switch {
	case res.BreachedPassword:
		return newErr(http.StatusBadRequest, errBreachedPassword, "This password has appeared in a data breach; choose another."), nil
	case !res.ValidPassword:
		return newErr(http.StatusBadRequest, errWeakPassword, "This password does not meet the project's strength policy; see strength_check."), nil
	}
	return nil, nil
}

// setPassword stores a new native hash for u (keeping the password_id when
// u already has one).
func (e *Emulator) setPassword(u *user, password string) error {
	h, err := e.pw.hasher.Hash(password)
	if err != nil {
		return err
	}
	id := u.passwordID
	if id == "" {
		id = "password-test-" + newUUID()
	}
	u.passwordID = id
	u.password = &storedPassword{id: id, hash: h}
	return nil
}

func passwordFactor(em *userEmail, now time.Time) factor {
	ts := rfc3339(now)
	f := factor{Type: "password", DeliveryMethod: "knowledge", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts}
	if em != nil {
		f.EmailFactor = &emailFactor{EmailID: em.EmailID, EmailAddress: em.Email}
	}
	return f
}

// wrongCredentials is Stytch's answer to a wrong password, a user without a
// password and a user whose password cannot be checked alike.
func wrongCredentials() *apiError {
	return newErr(http.StatusUnauthorized, errUnauthorized, "Unauthorized credentials.")
}

func emailNotFound() *apiError {
	return newErr(http.StatusNotFound, errEmailNotFound, "Email could not be found.")
}

// revokeOtherSessions ends every session of u except keep (nil: all).
func (e *Emulator) revokeOtherSessions(u *user, keep *userSession) {
	for _, ss := range e.cs.sessions {
		if ss.userID == u.id && ss != keep {
			e.cs.deleteSession(ss)
		}
	}
}

// passwordAuthResult finishes a password call that may start a session and
// drops reset_sessions, which the password responses do not declare.
func (e *Emulator) passwordAuthResult(u *user, ss *userSession, f factor, args userSessionArgs, now time.Time) (obj, error) {
	res, err := e.finishUserAuth(u, ss, f, args, now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	return res, nil
}

func checkSessionArgs(args userSessionArgs) *apiError {
	if args.SessionToken != "" && args.SessionJWT != "" {
		return newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	return nil
}

// POST /v1/passwords: a new user with a password.
func (e *Emulator) passwordCreate(rq *request) (any, error) {
	var in struct {
		Email             string         `json:"email"`
		Password          string         `json:"password"`
		Name              *userName      `json:"name"`
		TrustedMetadata   map[string]any `json:"trusted_metadata"`
		UntrustedMetadata map[string]any `json:"untrusted_metadata"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	if u, _ := e.cs.userByEmail(in.Email); u != nil {
		return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "A user with this email already exists.")
	}
	if aerr, err := e.pw.checkNew(in.Password, in.Email); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	if _, aerr := mergeClaims(nil, in.SessionCustomClaims); aerr != nil {
		return nil, aerr
	}
	u, aerr := e.createUser(userInput{
		Email: in.Email, Name: in.Name, TrustedMetadata: in.TrustedMetadata, UntrustedMetadata: in.UntrustedMetadata,
	}, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.setPassword(u, in.Password); err != nil {
		e.cs.deleteUser(u)
		return nil, err
	}
	em := u.emails[0]
	res, err := e.passwordAuthResult(u, nil, passwordFactor(em, rq.now), userSessionArgs{
		SessionDurationMinutes: in.SessionDurationMinutes, SessionCustomClaims: in.SessionCustomClaims,
	}, rq.now)
	if err != nil {
		return nil, err
	}
	res["email_id"] = em.EmailID
	return res, nil
}

// firstErr returns the API error when there is one, else err.
func firstErr(aerr *apiError, err error) error {
	if aerr != nil {
		return aerr
	}
	return err
}

// userWithPassword checks email and password for authenticate and
// existing_password/reset: email_not_found for an unknown address (as
// Stytch answers), unauthorized_credentials for a wrong password or a user
// without one, reset_password for a password that must be reset first. A
// match replaces an imported or outdated hash with a fresh native one.
func (e *Emulator) userWithPassword(email, password string) (*user, *userEmail, error) {
	if aerr := checkEmail(email); aerr != nil {
		return nil, nil, aerr
	}
	if password == "" {
		return nil, nil, badRequest("password is required.")
	}
	u, em := e.cs.userByEmail(email)
	if u == nil {
		return nil, nil, emailNotFound()
	}
	if err := e.pw.login(u.password, password); err != nil {
		return nil, nil, err
	}
	return u, em, nil
}

// POST /v1/passwords/authenticate.
func (e *Emulator) passwordAuthenticate(rq *request) (any, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	u, em, err := e.userWithPassword(in.Email, in.Password)
	if err != nil {
		return nil, err
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	return e.passwordAuthResult(u, ss, passwordFactor(em, rq.now), in.userSessionArgs, rq.now)
}

// POST /v1/passwords/strength_check.
func (e *Emulator) passwordStrengthCheck(rq *request) (any, error) {
	var in struct {
		Password string `json:"password"`
		Email    string `json:"email"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	r, err := e.pw.strength(in.Password, in.Email)
	if err != nil {
		return nil, err
	}
	fb := obj{"warning": r.Feedback.Warning, "suggestions": r.Feedback.Suggestions}
	if l := ludsWire(r); l != nil {
		fb["luds_requirements"] = l
	}
	return obj{
		"valid_password": r.ValidPassword, "score": r.Score, "breached_password": r.BreachedPassword,
		"strength_policy": string(r.StrengthPolicy), "breach_detection_on_create": r.BreachDetectionOnCreate,
		"feedback": fb,
	}, nil
}

// strength runs the strength policy for strength_check (consumer and B2B).
func (k *passwordKit) strength(password, email string) (passwords.Result, error) {
	if password == "" {
		return passwords.Result{}, badRequest("password is required.")
	}
	c, err := k.checker()
	if err != nil {
		return passwords.Result{}, err
	}
	return c.Check(password, email), nil
}

// ludsWire is the LUDS feedback of r, nil when the policy is not LUDS.
func ludsWire(r passwords.Result) obj {
	l := r.Feedback.LUDS
	if l == nil {
		return nil
	}
	return obj{
		"has_lower_case": l.HasLowerCase, "has_upper_case": l.HasUpperCase,
		"has_digit": l.HasDigit, "has_symbol": l.HasSymbol,
		"missing_complexity": l.MissingComplexity, "missing_characters": l.MissingCharacters,
	}
}

// POST /v1/passwords/migrate: store an imported hash for the user with the
// email (created when there is none). The hash is verified for real at the
// first authenticate, which then stores a native hash in its place.
func (e *Emulator) passwordMigrate(rq *request) (any, error) {
	var in struct {
		Email                  string         `json:"email"`
		Name                   *userName      `json:"name"`
		TrustedMetadata        map[string]any `json:"trusted_metadata"`
		UntrustedMetadata      map[string]any `json:"untrusted_metadata"`
		SetEmailVerified       bool           `json:"set_email_verified"`
		PhoneNumber            string         `json:"phone_number"`
		SetPhoneNumberVerified bool           `json:"set_phone_number_verified"`
		ExternalID             string         `json:"external_id"`
		Roles                  []string       `json:"roles"`
		hashImportJSON
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	imp, err := e.pw.parseImport(in.hashImportJSON)
	if err != nil {
		return nil, err
	}
	u, em := e.cs.userByEmail(in.Email)
	created := false
	if u == nil {
		var aerr *apiError
		if u, aerr = e.createUser(userInput{
			Email: in.Email, PhoneNumber: in.PhoneNumber, Name: in.Name, ExternalID: in.ExternalID, Roles: in.Roles,
			TrustedMetadata: in.TrustedMetadata, UntrustedMetadata: in.UntrustedMetadata,
		}, rq.now); aerr != nil {
			return nil, aerr
		}
		em, created = u.emails[0], true
		if in.SetPhoneNumberVerified && len(u.phones) > 0 {
			u.phones[0].Verified = true
		}
	}
	if in.SetEmailVerified {
		em.Verified = true
	}
	id := u.passwordID
	if id == "" {
		id = "password-test-" + newUUID()
	}
	u.passwordID = id
	u.password = &storedPassword{id: id, imported: imp}
	return obj{"user_id": u.id, "email_id": em.EmailID, "user_created": created, "user": u.wire()}, nil
}

// hashImportJSON is the imported hash of a migrate call, consumer or B2B.
type hashImportJSON struct {
	Hash     string            `json:"hash"`
	HashType string            `json:"hash_type"`
	MD5      *saltConfigJSON   `json:"md_5_config"`
	SHA1     *saltConfigJSON   `json:"sha_1_config"`
	SHA512   *saltConfigJSON   `json:"sha_512_config"`
	Argon2   *argon2ConfigJSON `json:"argon_2_config"`
	Scrypt   *scryptConfigJSON `json:"scrypt_config"`
	PBKDF2   *pbkdf2ConfigJSON `json:"pbkdf_2_config"`
}

// parseImport validates an imported hash and its configuration; the hash
// itself is checked against a password only at the first authenticate.
func (k *passwordKit) parseImport(in hashImportJSON) (*passwords.Imported, error) {
	if !validHashType(in.HashType) {
		return nil, badRequest("hash_type must be one of bcrypt, md_5, argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass, pbkdf_2.")
	}
	imp, err := passwords.ParseImport(passwords.Import{
		HashType: passwords.HashType(in.HashType), Hash: in.Hash,
		MD5Config: in.MD5.conf(), SHA1Config: in.SHA1.conf(), SHA512Config: in.SHA512.conf(),
		Argon2Config: in.Argon2.conf(), ScryptConfig: in.Scrypt.conf(), PBKDF2Config: in.PBKDF2.conf(),
	}, k.limits)
	if err != nil {
		var ce *passwords.ConfigError
		if errors.As(err, &ce) {
			return nil, badRequest("%s %s.", ce.Field, ce.Reason)
		}
		return nil, err
	}
	return imp, nil
}

func validHashType(t string) bool {
	for _, h := range passwords.HashTypes() {
		if string(h) == t {
			return true
		}
	}
	return false
}

type saltConfigJSON struct {
	PrependSalt string `json:"prepend_salt"`
	AppendSalt  string `json:"append_salt"`
}

func (c *saltConfigJSON) conf() *passwords.SaltConfig {
	if c == nil {
		return nil
	}
	return &passwords.SaltConfig{PrependSalt: c.PrependSalt, AppendSalt: c.AppendSalt}
}

type argon2ConfigJSON struct {
	Salt            string `json:"salt"`
	IterationAmount int    `json:"iteration_amount"`
	Memory          int    `json:"memory"`
	Threads         int    `json:"threads"`
	KeyLength       int    `json:"key_length"`
}

func (c *argon2ConfigJSON) conf() *passwords.Argon2Config {
	if c == nil {
		return nil
	}
	return &passwords.Argon2Config{Salt: c.Salt, IterationAmount: c.IterationAmount, Memory: c.Memory, Threads: c.Threads, KeyLength: c.KeyLength}
}

type scryptConfigJSON struct {
	Salt       string `json:"salt"`
	NParameter int    `json:"n_parameter"`
	RParameter int    `json:"r_parameter"`
	PParameter int    `json:"p_parameter"`
	KeyLength  int    `json:"key_length"`
}

func (c *scryptConfigJSON) conf() *passwords.ScryptConfig {
	if c == nil {
		return nil
	}
	return &passwords.ScryptConfig{Salt: c.Salt, NParameter: c.NParameter, RParameter: c.RParameter, PParameter: c.PParameter, KeyLength: c.KeyLength}
}

type pbkdf2ConfigJSON struct {
	Salt            string `json:"salt"`
	IterationAmount int    `json:"iteration_amount"`
	KeyLength       int    `json:"key_length"`
	Algorithm       string `json:"algorithm"`
}

func (c *pbkdf2ConfigJSON) conf() *passwords.PBKDF2Config {
	if c == nil {
		return nil
	}
	return &passwords.PBKDF2Config{Salt: c.Salt, IterationAmount: c.IterationAmount, KeyLength: c.KeyLength, Algorithm: c.Algorithm}
}

// passwordReset is a single-use reset token mailed by reset/start.
type passwordReset struct {
	userID    string
	emailID   string
	expiresAt time.Time
	used      bool
	pkce      string
}

// POST /v1/passwords/email/reset/start.
func (e *Emulator) passwordResetStart(rq *request) (any, error) {
	var in struct {
		Email             string `json:"email"`
		RedirectURL       string `json:"reset_password_redirect_url"`
		ExpirationMinutes *int   `json:"reset_password_expiration_minutes"`
		CodeChallenge     string `json:"code_challenge"`
		LoginRedirectURL  string `json:"login_redirect_url"`
		Locale            string `json:"locale"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	ttl, ru, aerr := e.resetStart(in.ExpirationMinutes, in.Locale, in.RedirectURL)
	if aerr != nil {
		return nil, aerr
	}
	u, em := e.cs.userByEmail(in.Email)
	if u == nil {
		return nil, emailNotFound()
	}
	tok := withToken(ru, "reset_password")
	e.cs.resets[tok] = &passwordReset{userID: u.id, emailID: em.EmailID, expiresAt: rq.now.Add(ttl), pkce: in.CodeChallenge}
	e.send(Message{
		Kind: KindEmail, Method: MethodMagicLink, Template: TemplateResetPassword, To: em.Email, UserID: u.id,
		Token: tok, URL: ru.String(), SentAt: rq.now, ExpiresAt: rq.now.Add(ttl),
	})
	return obj{"user_id": u.id, "email_id": em.EmailID}, nil
}

// POST /v1/passwords/email/reset: spend a reset token on a new password.
// Every other session of the user ends (a session named in the request
// keeps the new factor); session_duration_minutes starts a new one.
func (e *Emulator) passwordResetByEmail(rq *request) (any, error) {
	var in struct {
		Token        string `json:"token"`
		Password     string `json:"password"`
		CodeVerifier string `json:"code_verifier"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("token is required.")
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	rs, ok := e.cs.resets[in.Token]
	if !ok {
		return nil, linkNotFound()
	}
	if rs.used || !rq.now.Before(rs.expiresAt) {
		return nil, linkUnusable()
	}
	if rs.pkce != "" && !pkceMatches(in.CodeVerifier, rs.pkce) {
		return nil, badRequest("code_verifier does not match the code_challenge of the reset.").withType(errPKCEMismatch)
	}
	u := e.cs.users[rs.userID]
	if u == nil {
		return nil, linkNotFound()
	}
	var em *userEmail
	for _, x := range u.emails {
		if x.EmailID == rs.emailID {
			em = x
		}
	}
	if em == nil {
		return nil, linkNotFound() // the address was removed from the user since
	}
	if aerr, err := e.pw.checkNew(in.Password, em.Email); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := mergeClaims(nil, in.SessionCustomClaims); aerr != nil {
		return nil, aerr
	}
	if err := e.setPassword(u, in.Password); err != nil {
		return nil, err
	}
	rs.used = true
	em.Verified = true // the token proved the address
	e.revokeOtherSessions(u, ss)
	return e.passwordAuthResult(u, ss, passwordFactor(em, rq.now), in.userSessionArgs, rq.now)
}

// POST /v1/passwords/existing_password/reset.
func (e *Emulator) passwordResetExisting(rq *request) (any, error) {
	var in struct {
		Email            string `json:"email"`
		ExistingPassword string `json:"existing_password"`
		NewPassword      string `json:"new_password"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	if in.NewPassword == "" {
		return nil, badRequest("new_password is required.")
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	u, em := e.cs.userByEmail(in.Email)
	if u == nil {
		return nil, emailNotFound()
	}
	// A password that must be reset may be reset here: only a wrong one fails.
	ok, _, err := e.pw.verify(u.password, in.ExistingPassword)
	if err != nil && !errors.Is(err, passwords.ErrMalformedHash) {
		return nil, err
	}
	if !ok || in.ExistingPassword == "" {
		return nil, wrongCredentials()
	}
	if aerr, err := e.pw.checkNew(in.NewPassword, em.Email); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := mergeClaims(nil, in.SessionCustomClaims); aerr != nil {
		return nil, aerr
	}
	if err := e.setPassword(u, in.NewPassword); err != nil {
		return nil, err
	}
	e.revokeOtherSessions(u, ss)
	return e.passwordAuthResult(u, ss, passwordFactor(em, rq.now), in.userSessionArgs, rq.now)
}

// recentEmailFactor reports whether factors (a user's or a member's session's)
// hold a password, email magic link or email OTP factor authenticated within
// sessionResetWindow.
func recentEmailFactor(factors []factor, now time.Time) bool {
	for _, f := range factors {
		kindOK := f.Type == "password" || ((f.Type == "magic_link" || f.Type == "otp") && f.DeliveryMethod == KindEmail)
		if !kindOK {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.LastAuthenticatedAt)
		if err == nil && now.Sub(t) <= sessionResetWindow {
			return true
		}
	}
	return false
}

// POST /v1/passwords/session/reset: a new password for the session's user.
// Every other session of the user ends.
func (e *Emulator) passwordResetBySession(rq *request) (any, error) {
	var in struct {
		Password string `json:"password"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	ss, aerr := e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	u := e.cs.users[ss.userID]
	if u == nil {
		return nil, sessionNotFound()
	}
	if !recentEmailFactor(ss.factors, rq.now) {
		return nil, newErr(http.StatusBadRequest, errSessionTooOld,
			"The session needs a password, email magic link or email OTP factor from the last 5 minutes to reset the password.")
	}
	email := ""
	if len(u.emails) > 0 {
		email = u.emails[0].Email
	}
	if aerr, err := e.pw.checkNew(in.Password, email); aerr != nil || err != nil {
		return nil, firstErr(aerr, err)
	}
	cc, aerr := mergeClaims(ss.customClaims, in.SessionCustomClaims)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.setPassword(u, in.Password); err != nil {
		return nil, err
	}
	e.revokeOtherSessions(u, ss)
	ss.customClaims = cc
	ss.lastAccessedAt = rq.now
	if in.SessionDurationMinutes != nil {
		ss.expiresAt = rq.now.Add(time.Duration(*in.SessionDurationMinutes) * time.Minute)
	}
	return e.userSessionResult(obj{"user_id": u.id, "user": u.wire()}, ss, rq.now)
}
