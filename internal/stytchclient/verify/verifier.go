package verify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// KeySource resolves a JWT's kid to the RSA key that must have signed it.
// [*JWKSCache] is the production implementation. Errors should wrap
// [ErrUnknownKey] or [ErrKeysNotLoaded]; any other error is reported as
// ErrUnknownKey. Implementations must be
// cheap for known kids: the cached verification path calls Key too, to drop
// tokens whose key has left the JWKS.
type KeySource interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

var _ KeySource = (*JWKSCache)(nil)

// ProjectType is the kind of Stytch project a [Verifier] verifies session
// JWTs of. A B2B project's session belongs to a member of an organization
// (sub is the member ID, an organization claim sits beside the session
// claim); a consumer project's belongs to a user (sub is the user ID, no
// organization claim). The values match stytchclient.ProjectType's, so one
// converts to the other.
type ProjectType string

// Project types.
const (
	// ProjectB2B verifies member sessions into [SessionClaims].MemberID. It
	// is the default.
	ProjectB2B ProjectType = "b2b"
	// ProjectConsumer verifies user sessions into [SessionClaims].UserID.
	ProjectConsumer ProjectType = "consumer"
)

// VerifierConfig configures a [Verifier]. ProjectID and Keys are required.
type VerifierConfig struct {
	// ProjectID is the Stytch project; aud must contain it and the issuer
	// stytch.com/{ProjectID} is always accepted.
	ProjectID string
	// ProjectType is the project's kind; empty means ProjectB2B. A session
	// JWT of the other kind is refused with [ErrWrongProjectType]. M2M
	// tokens look alike in both kinds and are verified the same way.
	ProjectType ProjectType
	// Keys resolves signing keys, normally a *JWKSCache.
	Keys KeySource
	// BaseURL, when set, is accepted as an issuer too: Stytch issues
	// iss = the custom domain / base URL (e.g. https://test.stytch.com) when a
	// custom domain is used. A trailing slash is ignored.
	BaseURL string
	// Leeway absorbs clock skew on exp, nbf and iat. Zero means the default
	// of 30 s; a negative value means no leeway.
	Leeway time.Duration
	// MaxTokenAge, when positive, rejects a token whose iat is more than
	// MaxTokenAge before now with [ErrTooOld], however far away its exp is.
	// It has this one meaning everywhere; Leeway does not extend it. Zero
	// means no limit.
	MaxTokenAge time.Duration
	// CacheSize bounds the verified-token cache (entries). Zero means 10 000;
	// negative disables the cache. From 4096 entries up the cache is split
	// into 16 LRU shards, so eviction is least-recently-used per shard.
	CacheSize int
	// IsRevoked, when set, is consulted on every successful session
	// verification, cached or not, with the session ID; true rejects with
	// [ErrRevoked]. (M2M tokens carry no session and are not checked.) It
	// must be fast and decide itself whether to fail open or closed.
	IsRevoked func(ctx context.Context, sessionID string) bool
	// IsMemberRevoked, when set, is consulted like IsRevoked with the
	// session's subject (the member ID, or in a consumer project the user ID:
	// [SessionClaims.Subject]) and the token's iat; true rejects with
	// [ErrRevoked]. It serves revocations of every session of a member or
	// user issued before some moment (a deleted member or user, "log out
	// everywhere"), which cannot always name the sessions one by one. An M2M
	// token is asked about too, with its client ID (a deleted M2M client;
	// client IDs never collide with member or user IDs).
	IsMemberRevoked func(ctx context.Context, memberID string, issuedAt time.Time) bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// TracerProvider, when set, records a "verify.session" or "verify.m2m"
	// span per call with the path, outcome and reason (never the token).
	// Nil records nothing, which keeps the cached path allocation-free.
	TracerProvider trace.TracerProvider
	// Observe, when set, is called once per VerifySession or VerifyM2M call
	// with the token kind ([KindSession] or [KindM2M]), the path that decided
	// ([PathLocal]: signature and claims checked; [PathCache]: a token verified
	// before, rechecked) and the error (nil when valid; [Reason] names it).
	// It is for metrics: it must be cheap and is never given the token.
	Observe func(ctx context.Context, kind, path string, err error)
}

// Token kinds and decision paths as given to VerifierConfig.Observe.
const (
	KindSession = "session"
	KindM2M     = "m2m"
	PathLocal   = pathLocal
	PathCache   = pathCache
)

// Verifier checks Stytch session JWTs and M2M access tokens locally. It is
// safe for concurrent use and holds no goroutines.
type Verifier struct {
	projectID string
	consumer  bool // ProjectConsumer
	issuers   []string
	keys      KeySource
	leeway    time.Duration
	maxAge    time.Duration
	isRevoked func(ctx context.Context, sessionID string) bool
	memberRev func(ctx context.Context, memberID string, issuedAt time.Time) bool
	now       func() time.Time
	tracer    trace.Tracer
	observe   func(ctx context.Context, kind, path string, err error)
	validator *jwt.Validator
	cache     *tokenCache // nil when disabled

	// signatureChecks counts RSA verifications attempted; tests use it to
	// prove a cache hit did no RSA work.
	signatureChecks atomic.Uint64
}

// cacheEntry is a verified token, immutable once stored.
type cacheEntry struct {
	kid     string
	key     *rsa.PublicKey
	exp     time.Time
	iat     time.Time
	session *SessionClaims // exactly one of session, m2m is set
	m2m     *M2MClaims
}

// MaxTokenBytes caps the token size accepted; longer input is rejected as
// malformed before hashing or parsing. Stytch's JWTs (custom claims are
// capped at 4 KB) stay well below it.
const MaxTokenBytes = 16 << 10

// NewVerifier returns a Verifier. It does no I/O.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.ProjectID == "" {
		return nil, errors.New("verify: VerifierConfig.ProjectID is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("verify: VerifierConfig.Keys is required")
	}
	switch cfg.ProjectType {
	case "", ProjectB2B, ProjectConsumer:
	default:
		return nil, fmt.Errorf("verify: unknown VerifierConfig.ProjectType %q (want %q or %q)", cfg.ProjectType, ProjectB2B, ProjectConsumer)
	}
	v := &Verifier{
		projectID: cfg.ProjectID,
		consumer:  cfg.ProjectType == ProjectConsumer,
		issuers:   []string{"stytch.com/" + cfg.ProjectID},
		keys:      cfg.Keys,
		maxAge:    max(cfg.MaxTokenAge, 0),
		isRevoked: cfg.IsRevoked,
		memberRev: cfg.IsMemberRevoked,
		now:       cfg.Now,
		observe:   cfg.Observe,
	}
	if base := strings.TrimRight(cfg.BaseURL, "/"); base != "" {
		v.issuers = append(v.issuers, base)
	}
	switch {
	case cfg.Leeway == 0:
		v.leeway = 30 * time.Second
	case cfg.Leeway > 0:
		v.leeway = cfg.Leeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	if cfg.TracerProvider != nil {
		v.tracer = cfg.TracerProvider.Tracer(instrumentationName)
	}
	if cfg.CacheSize >= 0 {
		size := cfg.CacheSize
		if size == 0 {
			size = 10_000
		}
		v.cache = newTokenCache(size)
	}
	v.validator = jwt.NewValidator(
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(cfg.ProjectID),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
	)
	return v, nil
}

func (v *Verifier) issuerOK(iss string) bool {
	for _, want := range v.issuers {
		if iss == want {
			return true
		}
	}
	return false
}

// ProjectType returns the kind of project whose session JWTs v verifies.
func (v *Verifier) ProjectType() ProjectType {
	if v.consumer {
		return ProjectConsumer
	}
	return ProjectB2B
}

// VerifySession verifies a session JWT of the verifier's project type (a
// B2B member's or a consumer user's) and returns its claims; a session JWT of
// the other type fails with [ErrWrongProjectType]. On failure the error wraps exactly one reason (see [Reason]); only
// [ErrExpired] and [ErrTooOld] are worth a remote call ([Refreshable]).
// A token verified before is answered from the cache without RSA work,
// still rechecked against exp, MaxTokenAge, key presence and IsRevoked.
func (v *Verifier) VerifySession(ctx context.Context, token string) (*SessionClaims, error) {
	if v.tracer == nil {
		e, path, err := v.verify(ctx, token, kindSession)
		if v.observe != nil {
			v.observe(ctx, KindSession, path, err)
		}
		if err != nil {
			return nil, err
		}
		return e.session, nil
	}
	ctx, span := v.tracer.Start(ctx, "verify.session")
	e, path, err := v.verify(ctx, token, kindSession)
	endSpan(span, path, err)
	if v.observe != nil {
		v.observe(ctx, KindSession, path, err)
	}
	if err != nil {
		return nil, err
	}
	return e.session, nil
}

// VerifyM2M verifies an M2M access token and checks that its scopes meet
// every required scope with [ScopesSatisfied]. An invalid token fails with
// its reason; a valid token lacking scopes fails with [ErrInsufficientScope]
// and, unlike other failures, also returns the claims so the caller can
// record which client was refused.
func (v *Verifier) VerifyM2M(ctx context.Context, token string, required []string) (*M2MClaims, error) {
	var span trace.Span
	if v.tracer != nil {
		ctx, span = v.tracer.Start(ctx, "verify.m2m")
	}
	e, path, err := v.verify(ctx, token, kindM2M)
	var claims *M2MClaims
	if err == nil {
		claims = e.m2m
		if !ScopesSatisfied(claims.Scopes, required) {
			err = &verifyError{kind: kindM2M, reason: ErrInsufficientScope}
		}
	}
	if span != nil {
		endSpan(span, path, err)
	}
	if v.observe != nil {
		v.observe(ctx, KindM2M, path, err)
	}
	return claims, err
}

// Which path decided, for spans.
const (
	pathCache = "cache"
	pathLocal = "local"
)

func endSpan(span trace.Span, path string, err error) {
	outcome := "valid"
	if err != nil {
		outcome = "invalid"
		span.SetStatus(codes.Error, Reason(err))
	}
	span.SetAttributes(
		attribute.String("verify.path", path),
		attribute.String("verify.outcome", outcome),
		attribute.String("verify.reason", Reason(err)),
	)
	span.End()
}

// verifyError carries one reason (what errors.Is sees) and the underlying
// cause as text only: golang-jwt joins every failed check into its error, so
// wrapping it would let errors.Is match several reasons at once (an expired
// token with a wrong audience must not look Refreshable).
type verifyError struct {
	kind   tokenKind
	reason error
	cause  error
}

func (e *verifyError) Error() string {
	msg := "verify " + e.kind.String() + ": " + e.reason.Error()
	if e.cause != nil {
		msg += " (" + e.cause.Error() + ")"
	}
	return msg
}

func (e *verifyError) Unwrap() error { return e.reason }

func (v *Verifier) verify(ctx context.Context, token string, kind tokenKind) (*cacheEntry, string, error) {
	if token == "" || len(token) > MaxTokenBytes {
		return nil, pathLocal, &verifyError{kind: kind, reason: ErrMalformed}
	}
	now := v.now()
	var h [sha256.Size]byte
	if v.cache != nil {
		h = tokenHash(token)
		if e, ok := v.cache.Get(h); ok && v.keyStillServed(ctx, e) {
			return e, pathCache, v.recheck(ctx, e, kind, now)
		}
	}
	e, err := v.parse(ctx, token, kind, now)
	if err != nil {
		return nil, pathLocal, err
	}
	if v.cache != nil {
		v.cache.Add(h, e)
	}
	return e, pathLocal, v.checkRevoked(ctx, e, kind)
}

// tokenHash is the cache key.
func tokenHash(token string) [sha256.Size]byte {
	return sha256Of(token)
}

// sha256Of hashes s without copying it. []byte(s) would copy it (about
// 1.4 KB for a session JWT) to the heap on every call, a quarter of the
// cached path's cost; viewing the string's bytes in place is safe because
// sha256 only reads its input and the slice does not outlive the call.
func sha256Of(s string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s))) //nolint:gosec // read-only view, see above
}

// keyStillServed drops a cached verification whose key has left the JWKS
// (or was replaced under the same kid), so retiring a key takes effect for
// tokens already seen.
func (v *Verifier) keyStillServed(ctx context.Context, e *cacheEntry) bool {
	k, err := v.keys.Key(ctx, e.kid)
	return err == nil && k == e.key
}

// recheck applies the time-dependent rules to a cached verification; the
// rest (signature, issuer, audience, shape) cannot change.
func (v *Verifier) recheck(ctx context.Context, e *cacheEntry, kind tokenKind, now time.Time) error {
	if kind == kindSession && e.session == nil || kind == kindM2M && e.m2m == nil {
		return &verifyError{kind: kind, reason: ErrMalformed}
	}
	if !now.Before(e.exp.Add(v.leeway)) {
		return &verifyError{kind: kind, reason: ErrExpired}
	}
	if v.maxAge > 0 && now.Sub(e.iat) > v.maxAge {
		return &verifyError{kind: kind, reason: ErrTooOld}
	}
	return v.checkRevoked(ctx, e, kind)
}

func (v *Verifier) checkRevoked(ctx context.Context, e *cacheEntry, kind tokenKind) error {
	if e.m2m != nil {
		if v.memberRev != nil && v.memberRev(ctx, e.m2m.ClientID, e.iat) {
			return &verifyError{kind: kind, reason: ErrRevoked}
		}
		return nil
	}
	if e.session == nil {
		return nil
	}
	if v.isRevoked != nil && v.isRevoked(ctx, e.session.SessionID) ||
		v.memberRev != nil && v.memberRev(ctx, e.session.Subject(), e.iat) {
		return &verifyError{kind: kind, reason: ErrRevoked}
	}
	return nil
}

// parse is the full path: signature and every claim. The token is split,
// decoded and checked in the order golang-jwt's Parser used, so that a token
// with several faults is rejected for the same reason as before (a payload
// that does not decode is malformed whatever its signature; a forged token
// is forged however expired). The signature is checked with crypto/rsa
// directly and the registered claims by golang-jwt's Validator.
func (v *Verifier) parse(ctx context.Context, token string, kind tokenKind, now time.Time) (*cacheEntry, error) {
	fail := func(reason, cause error) (*cacheEntry, error) {
		return nil, &verifyError{kind: kind, reason: reason, cause: cause}
	}
	malformed := func(what string, err error) (*cacheEntry, error) {
		return fail(ErrMalformed, fmt.Errorf("%w: %s: %w", jwt.ErrTokenMalformed, what, err))
	}
	headerPart, rest, ok := strings.Cut(token, ".")
	payloadPart, sigPart, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sigPart, ".") {
		return fail(ErrMalformed, fmt.Errorf("%w: token contains an invalid number of segments", jwt.ErrTokenMalformed))
	}
	// One buffer for the three decoded segments: each is copied out (the
	// header and payload as the strings the claims are cut from) or used
	// before the next is decoded.
	var stackBuf [2048]byte
	header, err := decodeSegment(stackBuf[:], headerPart)
	if err != nil {
		return malformed("could not base64 decode header", err)
	}
	alg, algIsString, kid, err := decodeHeader(string(header))
	if err != nil {
		return malformed("could not JSON decode header", err)
	}
	payload, err := decodeSegment(stackBuf[:], payloadPart)
	if err != nil {
		return malformed("could not base64 decode claim", err)
	}
	claims := &parsedClaims{v: v, kind: kind, now: now}
	if err := claims.decode(string(payload)); err != nil {
		return malformed("could not JSON decode claim", err)
	}
	// An alg golang-jwt does not know is malformed; one it knows other than
	// RS256 (none, HS256 with the public key as secret, ...) is a forgery.
	if !algIsString || jwt.GetSigningMethod(alg) == nil {
		return fail(ErrMalformed, fmt.Errorf("%w: signing method (alg) is unspecified or unavailable", jwt.ErrTokenUnverifiable))
	}
	sig, err := decodeSegment(stackBuf[:], sigPart)
	if err != nil {
		return malformed("could not base64 decode signature", err)
	}
	if alg != jwt.SigningMethodRS256.Alg() {
		return fail(ErrBadSignature, fmt.Errorf("%w: signing method %s is invalid", jwt.ErrTokenSignatureInvalid, alg))
	}
	if kid == "" {
		return fail(ErrMalformed, errors.New("kid is required"))
	}
	// Before the key: another project's token names a kid this project's
	// JWKS lacks, and must not cost a refetch to be refused.
	if kind == kindSession && claims.otherProject(v.consumer) {
		return fail(ErrWrongProjectType, nil)
	}
	key, err := v.keys.Key(ctx, kid)
	if err != nil {
		if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrKeysNotLoaded) {
			// A KeySource of another make: its failure still means "no key
			// for this kid", never "malformed token".
			err = fmt.Errorf("%w: %w", ErrUnknownKey, err)
		}
		return fail(classify(err), err)
	}
	v.signatureChecks.Add(1)
	digest := sha256Of(token[:len(headerPart)+1+len(payloadPart)])
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return fail(ErrBadSignature, fmt.Errorf("%w: %w", jwt.ErrTokenSignatureInvalid, err))
	}
	if err := v.validator.Validate(claims); err != nil {
		err = fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err)
		return fail(classify(err), err)
	}
	e := &cacheEntry{kid: kid, key: key, exp: claims.ExpiresAt.Time, iat: claims.IssuedAt.Time}
	switch kind {
	case kindSession:
		s, err := claims.sessionClaims(v.consumer)
		if err != nil {
			return fail(ErrMalformed, err)
		}
		e.session = s
	case kindM2M:
		e.m2m = claims.m2mClaims()
	}
	return e, nil
}

// decodeSegment base64url-decodes a JWT segment (as golang-jwt does: no
// padding, line breaks ignored) into buf when it fits, else into a new
// buffer.
func decodeSegment(buf []byte, seg string) ([]byte, error) {
	if n := base64.RawURLEncoding.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	return buf[:n], err //nolint:wrapcheck // wrapped by the caller
}

// classify picks the one reason that matters most from golang-jwt's joined
// error: a token that is both forged and expired is forged; one that is both
// misaddressed and expired is misaddressed (and so not Refreshable).
func classify(err error) error {
	switch {
	case errors.Is(err, ErrKeysNotLoaded):
		return ErrKeysNotLoaded
	case errors.Is(err, ErrUnknownKey):
		return ErrUnknownKey
	case errors.Is(err, ErrWrongProjectType):
		return ErrWrongProjectType
	case errors.Is(err, ErrMalformed),
		errors.Is(err, jwt.ErrTokenMalformed),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrMalformed
	case errors.Is(err, ErrBadSignature), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrBadSignature
	case errors.Is(err, ErrWrongIssuer), errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrWrongAudience
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, ErrTooOld):
		return ErrTooOld
	default:
		// e.g. an alg golang-jwt does not know (ErrTokenUnverifiable).
		return ErrMalformed
	}
}
