package gateway

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// Default cookie names, as Stytch's frontend SDKs use them, so a frontend that already knows Stytch
// works as is.
const (
	SessionTokenCookie = "stytch_session" //nolint:gosec // a cookie name, not a credential
	SessionJWTCookie   = "stytch_session_jwt"
)

// consumerRPCPrefix starts the full method name of every consumer API RPC; their cookies are the
// consumer project's.
const consumerRPCPrefix = "/authsvc.consumer."

// CookieNames name one project's session cookies.
type CookieNames struct {
	// Session holds the session token, SessionJWT the session JWT.
	Session, SessionJWT string
}

// orDefault fills empty names with Stytch's.
func (n CookieNames) orDefault() CookieNames {
	if n.Session == "" {
		n.Session = SessionTokenCookie
	}
	if n.SessionJWT == "" {
		n.SessionJWT = SessionJWTCookie
	}
	return n
}

// CookieConfig controls the session cookies.
type CookieConfig struct {
	// Insecure drops the Secure attribute (plain-HTTP local development only).
	Insecure bool
	// Domain and Path scope the cookies; Path defaults to "/".
	Domain, Path string
	// B2B names the cookies of every RPC outside the consumer API (member sessions); empty names
	// default to Stytch's.
	B2B CookieNames
	// Consumer names the cookies of the consumer API's RPCs (authsvc.consumer.v1, user sessions);
	// empty names default to Stytch's.
	Consumer CookieNames
}

// names returns the cookie names of the RPC the gateway is calling (runtime.RPCMethod), so that each
// project's frontend reads and gets its own cookies.
func (cfg CookieConfig) names(ctx context.Context) CookieNames {
	if m, ok := runtime.RPCMethod(ctx); ok && strings.HasPrefix(m, consumerRPCPrefix) {
		return cfg.Consumer
	}
	return cfg.B2B
}

// allNames lists every session cookie name, both projects', once each.
func (cfg CookieConfig) allNames() []string {
	var out []string
	for _, n := range []string{cfg.B2B.Session, cfg.B2B.SessionJWT, cfg.Consumer.Session, cfg.Consumer.SessionJWT} {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// CookieOptions returns the gateway options that move session cookies between browser and API.
func CookieOptions(cfg CookieConfig) []runtime.ServeMuxOption {
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	cfg.B2B, cfg.Consumer = cfg.B2B.orDefault(), cfg.Consumer.orDefault()
	names := cfg.allNames()
	return []runtime.ServeMuxOption{
		runtime.WithMetadata(cfg.cookiesToMetadata),
		runtime.WithMiddlewares(markCookieAuthenticated(names)),
		runtime.WithForwardResponseOption(cfg.setCookies),
	}
}

// cookiesToMetadata hands the called project's session cookies to the API as metadata. Handlers use
// them only when the request body carries no token.
func (cfg CookieConfig) cookiesToMetadata(ctx context.Context, r *http.Request) metadata.MD {
	names := cfg.names(ctx)
	md := metadata.MD{}
	if c, err := r.Cookie(names.Session); err == nil && c.Value != "" {
		md.Set(callmeta.CookieSessionToken, c.Value)
	}
	if c, err := r.Cookie(names.SessionJWT); err == nil && c.Value != "" {
		md.Set(callmeta.CookieSessionJWT, c.Value)
	}
	return md
}

// setCookies is the one place session cookies are set and cleared, decided by the response alone
// and named by the called RPC's project: a response that says the caller's own session was revoked
// (caller_session_revoked) clears them when the request was authenticated by them; one that carries
// a session (a session_token or session_jwt next to a member_session or consumer session with
// expires_at) sets them.
func (cfg CookieConfig) setCookies(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	m := resp.ProtoReflect()
	names := cfg.names(ctx)
	if boolField(m, "caller_session_revoked") {
		if cookieAuthenticated(ctx) {
			cfg.write(w, names.Session, "", -1)
			cfg.write(w, names.SessionJWT, "", -1)
		}
		return nil
	}
	token := stringField(m, "session_token")
	jwt := stringField(m, "session_jwt")
	if token == "" && jwt == "" {
		return nil
	}
	maxAge := sessionMaxAge(m)
	if maxAge <= 0 {
		return nil // no expiry known: do not create a cookie that outlives the session
	}
	if token != "" {
		cfg.write(w, names.Session, token, maxAge)
	}
	if jwt != "" {
		cfg.write(w, names.SessionJWT, jwt, maxAge)
	}
	return nil
}

func (cfg CookieConfig) write(w http.ResponseWriter, name, value string, maxAge int) {
	var expires time.Time
	if maxAge < 0 {
		// Max-Age=0 deletes the cookie; an Expires in the past does the same for older clients.
		expires = time.Unix(1, 0)
	}
	// Secure is on unless the operator turned it off for plain-HTTP local development (refused in
	// production by config); HttpOnly and SameSite are always set.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // see above
		Name:     name,
		Value:    value,
		Path:     cfg.Path,
		Domain:   cfg.Domain,
		MaxAge:   maxAge,
		Expires:  expires,
		HttpOnly: true,
		Secure:   !cfg.Insecure,
		SameSite: http.SameSiteLaxMode,
	})
}

func boolField(m protoreflect.Message, name protoreflect.Name) bool {
	fd := m.Descriptor().Fields().ByName(name)
	return fd != nil && fd.Kind() == protoreflect.BoolKind && !fd.IsList() && m.Get(fd).Bool()
}

// cookieAuthenticatedKey marks a request whose credential came from the session cookies (it had
// cookies and no Authorization header, which would win over them).
type cookieAuthenticatedKey struct{}

// markCookieAuthenticated records in the request's context (which the gateway's response options
// see) whether session cookies (any of names) were the call's credential.
func markCookieAuthenticated(names []string) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
			if r.Header.Get("Authorization") == "" && hasSessionCookie(r, names) {
				r = r.WithContext(context.WithValue(r.Context(), cookieAuthenticatedKey{}, true))
			}
			next(w, r, params)
		}
	}
}

func cookieAuthenticated(ctx context.Context) bool {
	v, _ := ctx.Value(cookieAuthenticatedKey{}).(bool)
	return v
}

func stringField(m protoreflect.Message, name protoreflect.Name) string {
	fd := m.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return m.Get(fd).String()
}

// sessionMaxAge reads the session's expires_at (member_session in the B2B API, session in the
// consumer API) and returns the seconds left, or 0.
func sessionMaxAge(m protoreflect.Message) int {
	fd := m.Descriptor().Fields().ByName("member_session")
	if fd == nil {
		fd = m.Descriptor().Fields().ByName("session")
	}
	if fd == nil || fd.Message() == nil || !m.Has(fd) {
		return 0
	}
	sess := m.Get(fd).Message()
	efd := sess.Descriptor().Fields().ByName("expires_at")
	if efd == nil || efd.Message() == nil || efd.Message().FullName() != "google.protobuf.Timestamp" || !sess.Has(efd) {
		return 0
	}
	ts, ok := sess.Get(efd).Message().Interface().(*timestamppb.Timestamp)
	if !ok {
		return 0
	}
	return int(time.Until(ts.AsTime()).Seconds())
}
