package stytchemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// --- consumer magic links ---

func (e *Emulator) isSandboxPhone(phone string) bool {
	return e.sandbox && phone == SandboxPhoneNumber
}

// sandboxUser returns the seeded sandbox user, re-creating it if a test
// deleted it. Caller holds e.mu.
func (e *Emulator) sandboxUser(now time.Time) *user {
	if u := e.cs.users[SandboxUserID]; u != nil {
		return u
	}
	u := &user{
		id: SandboxUserID, status: statusActive, createdAt: now,
		emails: []*userEmail{{EmailID: "email-test-" + newUUID(), Email: SandboxEmail, Verified: true}},
		phones: []*userPhone{{PhoneID: "phone-number-test-" + newUUID(), PhoneNumber: SandboxPhoneNumber, Verified: true}},
	}
	e.cs.addUser(u)
	return u
}

// seedConsumerSandbox creates the consumer sandbox user.
func (e *Emulator) seedConsumerSandbox() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sandboxUser(e.clock.Now())
}

// sendUserLink registers a single-use consumer magic link and mails it.
func (e *Emulator) sendUserLink(template string, u *user, em *userEmail, redirect, pkce string, ttl time.Duration, now time.Time) *apiError {
	if redirect == "" {
		redirect = e.redirectURL
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" || ru.Host == "" {
		return badRequest("The redirect URL is not a valid absolute URL.")
	}
	tok := randToken(32)
	q := ru.Query()
	q.Set("stytch_token_type", "magic_links")
	q.Set("token", tok)
	ru.RawQuery = q.Encode()
	e.cs.links[tok] = &userLink{token: tok, template: template, userID: u.id, emailID: em.EmailID, expiresAt: now.Add(ttl), pkce: pkce}
	e.send(Message{
		Kind: KindEmail, Method: MethodMagicLink, Template: template, To: em.Email, UserID: u.id,
		Token: tok, URL: ru.String(), SentAt: now, ExpiresAt: now.Add(ttl),
	})
	return nil
}

type linkURLs struct {
	LoginURL          string `json:"login_magic_link_url"`
	SignupURL         string `json:"signup_magic_link_url"`
	LoginExpiration   *int   `json:"login_expiration_minutes"`
	SignupExpiration  *int   `json:"signup_expiration_minutes"`
	CodeChallenge     string `json:"code_challenge"`
	CreateUserPending bool   `json:"create_user_as_pending"`
}

// pick returns the template, redirect URL and lifetime for u: a pending
// user gets a sign-up link, an active one a login link.
func (l linkURLs) pick(u *user) (string, string, time.Duration, *apiError) {
	if u.status == statusPending {
		ttl, aerr := expiryMinutes("signup_expiration_minutes", l.SignupExpiration, defaultSignupLinkMins, minLinkMins, maxLinkMins)
		return TemplateSignup, l.SignupURL, ttl, aerr
	}
	ttl, aerr := expiryMinutes("login_expiration_minutes", l.LoginExpiration, defaultMagicLinkMins, minLinkMins, maxLinkMins)
	return TemplateLogin, l.LoginURL, ttl, aerr
}

func (l linkURLs) validate() *apiError {
	if _, aerr := expiryMinutes("login_expiration_minutes", l.LoginExpiration, defaultMagicLinkMins, minLinkMins, maxLinkMins); aerr != nil {
		return aerr
	}
	_, aerr := expiryMinutes("signup_expiration_minutes", l.SignupExpiration, defaultSignupLinkMins, minLinkMins, maxLinkMins)
	return aerr
}

func checkEmail(email string) *apiError {
	if email == "" {
		return badRequest("email is required.")
	}
	if !validEmail(email) {
		return invalidEmail()
	}
	return nil
}

func checkPhone(phone string) *apiError {
	if phone == "" {
		return badRequest("phone_number is required.")
	}
	if !validPhone(phone) {
		return invalidPhone()
	}
	return nil
}

// attachTarget resolves the user named by user_id, session_token or
// session_jwt in a send call that adds a factor, or nil when none is named.
func (e *Emulator) attachTarget(userID, token, sessionJWT string, now time.Time) (*user, *apiError) {
	if token != "" || sessionJWT != "" {
		ss, aerr := e.resolveUserSession(token, sessionJWT, now)
		if aerr != nil {
			return nil, aerr
		}
		if userID != "" && e.cs.findUser(userID) != e.cs.users[ss.userID] {
			return nil, badRequest("user_id and the session name different users.")
		}
		userID = ss.userID
	}
	if userID == "" {
		return nil, nil
	}
	u := e.cs.findUser(userID)
	if u == nil {
		return nil, userNotFound()
	}
	return u, nil
}

// emailFor finds the user and email record to send to: the named user
// (adding the address, unverified, when it is new to them) or the user who
// holds the address.
func (e *Emulator) emailFor(target *user, email string) (*user, *userEmail, *apiError) {
	owner, em := e.cs.userByEmail(email)
	if target == nil {
		if owner == nil {
			return nil, nil, newErr(http.StatusNotFound, errEmailNotFound, "No user has this email address.")
		}
		return owner, em, nil
	}
	if owner != nil && owner != target {
		return nil, nil, newErr(http.StatusBadRequest, errDuplicateEmail, "Another user already has this email address.")
	}
	if em == nil {
		em = newEmail(email)
		target.emails = append(target.emails, em)
	}
	return target, em, nil
}

func (e *Emulator) phoneFor(target *user, phone string) (*user, *userPhone, *apiError) {
	owner, p := e.cs.userByPhone(phone)
	if target == nil {
		if owner == nil {
			return nil, nil, newErr(http.StatusNotFound, errPhoneNotFound, "No user has this phone number.")
		}
		return owner, p, nil
	}
	if owner != nil && owner != target {
		return nil, nil, newErr(http.StatusBadRequest, errDuplicatePhone, "Another user already has this phone number.")
	}
	if p == nil {
		p = newPhone(phone)
		target.phones = append(target.phones, p)
	}
	return target, p, nil
}

func (e *Emulator) sandboxEmailResult(now time.Time, created bool, withCreated bool) obj {
	u := e.sandboxUser(now)
	res := obj{"user_id": u.id, "email_id": ""}
	for _, em := range u.emails {
		if strings.EqualFold(em.Email, SandboxEmail) {
			res["email_id"] = em.EmailID
		}
	}
	if withCreated {
		res["user_created"] = created
	}
	return res
}

func (e *Emulator) userMLSend(rq *request) (any, error) {
	var in struct {
		Email        string `json:"email"`
		UserID       string `json:"user_id"`
		SessionToken string `json:"session_token"`
		SessionJWT   string `json:"session_jwt"`
		linkURLs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	if aerr := in.validate(); aerr != nil {
		return nil, aerr
	}
	if isSandboxEmail(e, in.Email) {
		return e.sandboxEmailResult(rq.now, false, false), nil
	}
	target, aerr := e.attachTarget(in.UserID, in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	u, em, aerr := e.emailFor(target, in.Email)
	if aerr != nil {
		return nil, aerr
	}
	tmpl, redirect, ttl, aerr := in.pick(u)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.sendUserLink(tmpl, u, em, redirect, in.CodeChallenge, ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	return obj{"user_id": u.id, "email_id": em.EmailID}, nil
}

// loginOrCreateByEmail finds the user with email or creates one.
func (e *Emulator) loginOrCreateByEmail(email string, pending bool, now time.Time) (*user, *userEmail, bool, *apiError) {
	if u, em := e.cs.userByEmail(email); u != nil {
		return u, em, false, nil
	}
	u, aerr := e.createUser(userInput{Email: email, CreateAsPending: pending}, now)
	if aerr != nil {
		return nil, nil, false, aerr
	}
	return u, u.emails[0], true, nil
}

func (e *Emulator) userMLLoginOrCreate(rq *request) (any, error) {
	var in struct {
		Email string `json:"email"`
		linkURLs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	if aerr := in.validate(); aerr != nil {
		return nil, aerr
	}
	if isSandboxEmail(e, in.Email) {
		return e.sandboxEmailResult(rq.now, false, true), nil
	}
	u, em, created, aerr := e.loginOrCreateByEmail(in.Email, in.CreateUserPending, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	tmpl, redirect, ttl, aerr := in.pick(u)
	if created {
		// A user created by this call gets the sign-up link whatever its status.
		tmpl, redirect = TemplateSignup, in.SignupURL
		ttl, aerr = expiryMinutes("signup_expiration_minutes", in.SignupExpiration, defaultSignupLinkMins, minLinkMins, maxLinkMins)
	}
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.sendUserLink(tmpl, u, em, redirect, in.CodeChallenge, ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	return obj{"user_id": u.id, "email_id": em.EmailID, "user_created": created}, nil
}

func (e *Emulator) userMLInvite(rq *request) (any, error) {
	var in struct {
		Email             string         `json:"email"`
		Name              *userName      `json:"name"`
		InviteURL         string         `json:"invite_magic_link_url"`
		InviteExpiration  *int           `json:"invite_expiration_minutes"`
		TrustedMetadata   map[string]any `json:"trusted_metadata"`
		UntrustedMetadata map[string]any `json:"untrusted_metadata"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	ttl, aerr := expiryMinutes("invite_expiration_minutes", in.InviteExpiration, defaultConsumerInvite, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	if isSandboxEmail(e, in.Email) {
		return e.sandboxEmailResult(rq.now, false, false), nil
	}
	u, em := e.cs.userByEmail(in.Email)
	switch {
	case u != nil && u.status == statusActive:
		return nil, badRequest("The user is already active; send a login link instead.").withType(errUserAlreadyActive)
	case u == nil:
		if u, aerr = e.createUser(userInput{
			Email: in.Email, Name: in.Name, CreateAsPending: true,
			TrustedMetadata: in.TrustedMetadata, UntrustedMetadata: in.UntrustedMetadata,
		}, rq.now); aerr != nil {
			return nil, aerr
		}
		em = u.emails[0]
	}
	if aerr := e.sendUserLink(TemplateInvite, u, em, in.InviteURL, "", ttl, rq.now); aerr != nil {
		return nil, aerr
	}
	return obj{"user_id": u.id, "email_id": em.EmailID}, nil
}

func (e *Emulator) userMLRevokeInvite(rq *request) (any, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkEmail(in.Email); aerr != nil {
		return nil, aerr
	}
	u, em := e.cs.userByEmail(in.Email)
	revoked := false
	if u != nil {
		for _, l := range e.cs.links {
			if l.template == TemplateInvite && l.emailID == em.EmailID && !l.used && rq.now.Before(l.expiresAt) {
				l.used, revoked = true, true
			}
		}
	}
	if !revoked {
		return nil, newErr(http.StatusNotFound, errInviteNotFound, "There is no pending invite for this email address.")
	}
	return obj{}, nil
}

func (e *Emulator) userMLCreate(rq *request) (any, error) {
	var in struct {
		UserID     string `json:"user_id"`
		Expiration *int   `json:"expiration_minutes"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.UserID == "" {
		return nil, badRequest("user_id is required.")
	}
	ttl, aerr := expiryMinutes("expiration_minutes", in.Expiration, defaultMagicLinkMins, minLinkMins, maxLinkMins)
	if aerr != nil {
		return nil, aerr
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, userNotFound()
	}
	tok := randToken(32)
	e.cs.links[tok] = &userLink{token: tok, template: templateEmbedded, userID: u.id, expiresAt: rq.now.Add(ttl)}
	return obj{"user_id": u.id, "token": tok}, nil
}

// peekUserLink validates a consumer magic-link token without spending it.
func (e *Emulator) peekUserLink(tok, verifier string, now time.Time) (*userLink, *apiError) {
	l, ok := e.cs.links[tok]
	if !ok {
		return nil, linkNotFound()
	}
	if l.used || !now.Before(l.expiresAt) {
		return nil, linkUnusable()
	}
	if l.pkce != "" && !pkceMatches(verifier, l.pkce) {
		return nil, badRequest("code_verifier does not match the code_challenge of the magic link.").withType(errPKCEMismatch)
	}
	return l, nil
}

// pkceS256 is the S256 code challenge of verifier (RFC 7636): base64url of its SHA-256, unpadded.
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// pkceMatches reports whether verifier hashes to challenge (S256; the challenge's base64 padding,
// if any, ignored).
func pkceMatches(verifier, challenge string) bool {
	return verifier != "" && pkceS256(verifier) == strings.TrimRight(challenge, "=")
}

func (e *Emulator) userMLAuthenticate(rq *request) (any, error) {
	var in struct {
		Token        string `json:"token"`
		CodeVerifier string `json:"code_verifier"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("token is required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	var u *user
	var link *userLink
	if e.sandbox {
		switch in.Token {
		case SandboxMagicLinkToken:
			u = e.sandboxUser(rq.now)
		case SandboxMagicLinkTokenUnauth:
			return nil, linkUnusable()
		case SandboxMagicLinkTokenNotFound:
			return nil, linkNotFound()
		}
	}
	if u == nil {
		var aerr *apiError
		if link, aerr = e.peekUserLink(in.Token, in.CodeVerifier, rq.now); aerr != nil {
			return nil, aerr
		}
		if u = e.cs.users[link.userID]; u == nil {
			return nil, userNotFound()
		}
	}
	embedded := link != nil && link.template == templateEmbedded
	var em *userEmail
	if !embedded {
		for _, x := range u.emails {
			if link == nil || x.EmailID == link.emailID {
				em = x
				break
			}
		}
		if em == nil {
			return nil, linkNotFound() // the address was removed from the user since
		}
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	if link != nil {
		link.used = true
	}
	ts := rfc3339(rq.now)
	f := factor{Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts}
	methodID := ""
	if embedded {
		// An embeddable link proves no delivery factor: nothing is verified.
		f.DeliveryMethod = "embedded"
		f.EmbeddableMagicLinkFactor = &embeddedFactor{EmbeddedID: "embedded-test-" + newUUID()}
	} else {
		em.Verified = true
		methodID = em.EmailID
		f.EmailFactor = &emailFactor{EmailID: em.EmailID, EmailAddress: em.Email}
	}
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	res["method_id"] = methodID
	return res, nil
}

// --- consumer OTPs ---

func otpTTL(v *int) (time.Duration, *apiError) {
	return expiryMinutes("expiration_minutes", v, defaultConsumerOTPMins, minConsumerOTPMins, maxConsumerOTPMins)
}

// sendUserCode replaces the live code of methodID and delivers a new one.
func (e *Emulator) sendUserCode(channel, template, methodID, to string, u *user, ttl time.Duration, now time.Time) {
	code := randDigits(6)
	e.cs.otps[methodID] = &userOTP{code: code, methodID: methodID, userID: u.id, channel: channel, expiresAt: now.Add(ttl)}
	e.send(Message{
		Kind: channel, Method: MethodOTP, Template: template, To: to, UserID: u.id,
		Code: code, SentAt: now, ExpiresAt: now.Add(ttl),
	})
}

func otpTemplate(u *user, created bool) string {
	if created || u.status == statusPending {
		return TemplateSignup
	}
	return TemplateLogin
}

type otpSendInput struct {
	PhoneNumber       string `json:"phone_number"`
	Email             string `json:"email"`
	ExpirationMinutes *int   `json:"expiration_minutes"`
	UserID            string `json:"user_id"`
	SessionToken      string `json:"session_token"`
	SessionJWT        string `json:"session_jwt"`
	CreateUserPending bool   `json:"create_user_as_pending"`
}

// otpPhoneSend builds the SMS and WhatsApp send / login_or_create handlers.
func (e *Emulator) otpPhoneSend(channel string, loginOrCreate bool) handlerFunc {
	return func(rq *request) (any, error) {
		var in otpSendInput
		if err := rq.decode(&in); err != nil {
			return nil, err
		}
		if aerr := checkPhone(in.PhoneNumber); aerr != nil {
			return nil, aerr
		}
		ttl, aerr := otpTTL(in.ExpirationMinutes)
		if aerr != nil {
			return nil, aerr
		}
		res := obj{}
		if e.isSandboxPhone(in.PhoneNumber) {
			u := e.sandboxUser(rq.now)
			res["user_id"], res["phone_id"] = u.id, u.phones[0].PhoneID
			if loginOrCreate {
				res["user_created"] = false
			}
			return res, nil // Stytch's sandbox number: 200, nothing sent
		}
		var u *user
		var p *userPhone
		created := false
		if loginOrCreate {
			if u, p = e.cs.userByPhone(in.PhoneNumber); u == nil {
				if u, aerr = e.createUser(userInput{PhoneNumber: in.PhoneNumber, CreateAsPending: in.CreateUserPending}, rq.now); aerr != nil {
					return nil, aerr
				}
				p, created = u.phones[0], true
			}
			res["user_created"] = created
		} else {
			target, aerr := e.attachTarget(in.UserID, in.SessionToken, in.SessionJWT, rq.now)
			if aerr != nil {
				return nil, aerr
			}
			if u, p, aerr = e.phoneFor(target, in.PhoneNumber); aerr != nil {
				return nil, aerr
			}
		}
		e.sendUserCode(channel, otpTemplate(u, created), p.PhoneID, p.PhoneNumber, u, ttl, rq.now)
		res["user_id"], res["phone_id"] = u.id, p.PhoneID
		return res, nil
	}
}

// otpEmailSend builds the email send / login_or_create handlers.
func (e *Emulator) otpEmailSend(loginOrCreate bool) handlerFunc {
	return func(rq *request) (any, error) {
		var in otpSendInput
		if err := rq.decode(&in); err != nil {
			return nil, err
		}
		if aerr := checkEmail(in.Email); aerr != nil {
			return nil, aerr
		}
		ttl, aerr := otpTTL(in.ExpirationMinutes)
		if aerr != nil {
			return nil, aerr
		}
		if isSandboxEmail(e, in.Email) {
			return e.sandboxEmailResult(rq.now, false, loginOrCreate), nil
		}
		var u *user
		var em *userEmail
		res := obj{}
		created := false
		if loginOrCreate {
			if u, em, created, aerr = e.loginOrCreateByEmail(in.Email, in.CreateUserPending, rq.now); aerr != nil {
				return nil, aerr
			}
			res["user_created"] = created
		} else {
			target, aerr := e.attachTarget(in.UserID, in.SessionToken, in.SessionJWT, rq.now)
			if aerr != nil {
				return nil, aerr
			}
			if u, em, aerr = e.emailFor(target, in.Email); aerr != nil {
				return nil, aerr
			}
		}
		e.sendUserCode(KindEmail, otpTemplate(u, created), em.EmailID, em.Email, u, ttl, rq.now)
		res["user_id"], res["email_id"] = u.id, em.EmailID
		return res, nil
	}
}

func (e *Emulator) userOTPAuthenticate(rq *request) (any, error) {
	var in struct {
		MethodID string `json:"method_id"`
		Code     string `json:"code"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.MethodID == "" || in.Code == "" {
		return nil, badRequest("method_id and code are required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	}
	u, em, p := e.cs.userByMethod(in.MethodID)
	if u == nil {
		return nil, otpNotFound()
	}
	sandbox := e.sandbox && u.id == SandboxUserID && in.Code == sandboxOTPCode
	c := e.cs.otps[in.MethodID]
	if c == nil {
		if c = e.cs.otps[strings.ToLower(in.MethodID)]; c == nil && !sandbox {
			return nil, otpNotFound()
		}
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	channel := KindEmail
	switch {
	case sandbox:
		if p != nil {
			channel = KindSMS
		}
	case c.used || !rq.now.Before(c.expiresAt) || subtle.ConstantTimeCompare([]byte(c.code), []byte(in.Code)) != 1:
		return nil, otpUnusable()
	default:
		c.used = true
		channel = c.channel
	}
	ts := rfc3339(rq.now)
	f := factor{Type: "otp", DeliveryMethod: channel, LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts}
	methodID := ""
	if em != nil {
		em.Verified = true
		methodID = em.EmailID
		f.EmailFactor = &emailFactor{EmailID: em.EmailID, EmailAddress: em.Email}
	} else {
		p.Verified = true
		methodID = p.PhoneID
		f.PhoneNumberFactor = &phoneFactor{PhoneID: p.PhoneID, PhoneNumber: p.PhoneNumber}
	}
	res, err := e.finishUserAuth(u, ss, f, in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	res["method_id"] = methodID
	return res, nil
}
