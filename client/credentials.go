package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/policy"
)

// ErrNoCredentials is returned by [Client.AccessToken] when the client was built without
// [WithM2MCredentials].
var ErrNoCredentials = errors.New("authsvc client: no M2M credentials configured")

const (
	// refreshAt is the fraction of a token's lifetime after which it is replaced: 48 minutes of
	// Stytch's 60, the same point at which authsvc's own token cache replaces it, so the refresh
	// gets a new token rather than authsvc's cached copy of the old one.
	refreshAt = 0.8
	// fetchTimeout bounds one IssueToken call, which runs detached from the caller that started it
	// because other callers wait for the same result.
	fetchTimeout = 30 * time.Second
)

// tokenSource obtains the client's M2M access token from authsvc and caches it.
//
// Why not golang.org/x/oauth2's ReuseTokenSource: it refreshes only once the token has expired (minus
// a fixed 10 s), does not share one refresh between concurrent callers while letting each give up
// on its own context, and cannot be told the clock, which tests move.
type tokenSource struct {
	issue func(ctx context.Context, req *m2mv1.IssueTokenRequest) (*m2mv1.IssueTokenResponse, error)
	creds m2mCredentials
	now   func() time.Time

	mu  sync.Mutex
	cur *cachedToken

	group singleflight.Group
}

type cachedToken struct {
	value     string
	refreshAt time.Time
	expiresAt time.Time
}

// token returns a valid access token, fetching one when none is cached or the cached one is due
// for refresh. A failed refresh falls back to the cached token while it is still valid.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	now := ts.now()
	ts.mu.Lock()
	cur := ts.cur
	ts.mu.Unlock()
	if cur != nil && now.Before(cur.refreshAt) {
		return cur.value, nil
	}
	ch := ts.group.DoChan("token", func() (any, error) {
		// Detached from the caller's cancellation (others wait for the same fetch) but not from its
		// trace, so the IssueToken span sits under the call that needed it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		return ts.fetch(fctx)
	})
	select {
	case <-ctx.Done():
		if cur != nil && now.Before(cur.expiresAt) {
			return cur.value, nil
		}
		return "", fmt.Errorf("authsvc client: waiting for an M2M access token: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			if cur != nil && now.Before(cur.expiresAt) {
				return cur.value, nil
			}
			return "", r.Err
		}
		t, _ := r.Val.(*cachedToken)
		return t.value, nil
	}
}

func (ts *tokenSource) fetch(ctx context.Context) (*cachedToken, error) {
	resp, err := ts.issue(ctx, &m2mv1.IssueTokenRequest{
		ClientId:     ts.creds.clientID,
		ClientSecret: ts.creds.clientSecret,
		Scopes:       ts.creds.scopes,
	})
	if err != nil {
		// Keep the status code (UNAUTHENTICATED for a wrong secret, UNAVAILABLE...) so that the RPC
		// that needed the token fails with it; never include the secret.
		st := status.Convert(err)
		return nil, status.Errorf(st.Code(), "authsvc client: obtaining an M2M access token for client %s: %s", ts.creds.clientID, st.Message())
	}
	if resp.GetAccessToken() == "" || resp.GetExpiresAt() == nil {
		return nil, status.Error(codes.Internal, "authsvc client: IssueToken returned no token or no expiry")
	}
	now := ts.now()
	expiresAt := resp.GetExpiresAt().AsTime()
	lifetime := time.Duration(resp.GetExpiresIn()) * time.Second
	if lifetime <= 0 {
		lifetime = expiresAt.Sub(now)
	}
	issuedAt := expiresAt.Add(-lifetime)
	t := &cachedToken{
		value:     resp.GetAccessToken(),
		expiresAt: expiresAt,
		refreshAt: issuedAt.Add(time.Duration(float64(lifetime) * refreshAt)),
	}
	if !t.refreshAt.After(now) {
		// authsvc answered from its cache with a token already past our refresh point (clocks or
		// refresh fractions differ): use it, and ask again halfway to its expiry rather than on
		// every call.
		t.refreshAt = now.Add(expiresAt.Sub(now) / 2)
	}
	ts.mu.Lock()
	ts.cur = t
	ts.mu.Unlock()
	return t, nil
}

// perRPCCredentials attaches the access token to the RPCs whose access rule admits services.
type perRPCCredentials struct {
	ts      *tokenSource
	methods map[string]bool // "/package.Service/Method" -> admits M2M callers
	secure  bool
}

var _ credentials.PerRPCCredentials = (*perRPCCredentials)(nil)

func (c *perRPCCredentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	ri, ok := credentials.RequestInfoFromContext(ctx)
	if !ok || !c.methods[ri.Method] {
		// Public RPCs (IssueToken among them: it must not need the token it issues) and
		// member-only RPCs get no service token.
		return nil, nil
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get("authorization")) > 0 {
		// The caller acts with its own credential (for example a member session it forwards).
		return nil, nil
	}
	tok, err := c.ts.token(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

func (c *perRPCCredentials) RequireTransportSecurity() bool { return c.secure }

// serviceMethods returns the full method names ("/package.Service/Method") of the RPCs of services
// whose policy's access rule lists service scopes, read from the proto descriptors so the client
// follows the API definition rather than a copy of it.
func serviceMethods(services ...protoreflect.ServiceDescriptor) map[string]bool {
	out := map[string]bool{}
	for _, sd := range services {
		ms := sd.Methods()
		for i := range ms.Len() {
			m := ms.Get(i)
			if len(policy.Of(m).GetAccess().GetServiceScopes()) > 0 {
				out["/"+string(sd.FullName())+"/"+string(m.Name())] = true
			}
		}
	}
	return out
}
