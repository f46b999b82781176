package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// m2mTokenLifetime is Stytch's M2M access token lifetime; a cached token cannot be older.
const m2mTokenLifetime = time.Hour

// M2M implements m2mv1.M2MServiceServer.
type M2M struct {
	m2mv1.UnimplementedM2MServiceServer
	base
	stytch  *stytchclient.Client
	tokens  *stytchclient.TokenSource
	checker *session.Checker
	now     func() time.Time

	// changed records when each client's credentials last changed (secret rotated or rotation
	// cancelled, client updated or deleted) through this service. TokenSource has no way to drop
	// cached tokens, so a token it returns that was issued before the change may belong to a secret
	// that no longer works; IssueToken then asks Stytch directly, which checks the secret again.
	mu      sync.Mutex
	changed map[string]time.Time
}

var _ m2mv1.M2MServiceServer = (*M2M)(nil)

// NewM2M returns the M2MService: tokens issues and caches access tokens, checker verifies them
// locally, now is the verifier's clock.
func NewM2M(stytch *stytchclient.Client, tokens *stytchclient.TokenSource, checker *session.Checker, now func() time.Time, log *slog.Logger) *M2M {
	return &M2M{base: newBase(log), stytch: stytch, tokens: tokens, checker: checker, now: now, changed: make(map[string]time.Time)}
}

func (s *M2M) credentialsChanged(clientID string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.changed {
		if now.Sub(t) > m2mTokenLifetime {
			delete(s.changed, id)
		}
	}
	s.changed[clientID] = now
}

func (s *M2M) changedAt(clientID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.changed[clientID]
	return t, ok
}

func toClient(c *stytchclient.M2MClient) *m2mv1.Client {
	out := &m2mv1.Client{
		ClientId:             c.ClientID,
		ClientName:           c.ClientName,
		ClientDescription:    c.ClientDescription,
		Status:               clientStatuses.value(c.Status),
		Scopes:               c.Scopes,
		ClientSecretLastFour: c.ClientSecretLastFour,
		TrustedMetadata:      toStruct(c.TrustedMetadata),
	}
	if c.NextClientSecretLastFour != "" {
		out.NextClientSecretLastFour = &c.NextClientSecretLastFour
	}
	return out
}

// CreateClient creates an M2M client and returns its secret, once.
func (s *M2M) CreateClient(ctx context.Context, req *m2mv1.CreateClientRequest) (*m2mv1.CreateClientResponse, error) {
	res, err := s.stytch.M2MClientCreate(ctx, stytchclient.M2MClientCreateParams{
		Scopes:            append([]string{}, req.GetScopes()...), // Stytch wants [] rather than null
		ClientID:          req.GetClientId(),
		ClientSecret:      req.GetClientSecret(),
		ClientName:        req.GetClientName(),
		ClientDescription: req.GetClientDescription(),
		TrustedMetadata:   fromStruct(req.GetTrustedMetadata()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &m2mv1.CreateClientResponse{M2MClient: toClient(&res.M2MClient.M2MClient), ClientSecret: res.M2MClient.ClientSecret}, nil
}

// GetClient returns a client without its secret.
func (s *M2M) GetClient(ctx context.Context, req *m2mv1.GetClientRequest) (*m2mv1.GetClientResponse, error) {
	res, err := s.stytch.M2MClientGet(ctx, req.GetClientId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &m2mv1.GetClientResponse{M2MClient: toClient(&res.M2MClient)}, nil
}

// UpdateClient changes the fields that are set.
func (s *M2M) UpdateClient(ctx context.Context, req *m2mv1.UpdateClientRequest) (*m2mv1.UpdateClientResponse, error) {
	p := stytchclient.M2MClientUpdateParams{
		ClientID:          req.GetClientId(),
		ClientName:        req.ClientName,
		ClientDescription: req.ClientDescription,
		TrustedMetadata:   fromStruct(req.GetTrustedMetadata()),
	}
	if st := clientStatuses.name(req.GetStatus()); st != "" {
		p.Status = &st
	}
	if sc := req.GetScopes(); sc != nil {
		p.Scopes = append([]string{}, sc.GetScopes()...)
	}
	res, err := s.stytch.M2MClientUpdate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	if p.Status != nil || p.Scopes != nil {
		s.credentialsChanged(req.GetClientId())
	}
	return &m2mv1.UpdateClientResponse{M2MClient: toClient(&res.M2MClient)}, nil
}

// DeleteClient deletes a client. Tokens already issued stay valid until they expire.
func (s *M2M) DeleteClient(ctx context.Context, req *m2mv1.DeleteClientRequest) (*m2mv1.DeleteClientResponse, error) {
	res, err := s.stytch.M2MClientDelete(ctx, req.GetClientId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	s.credentialsChanged(req.GetClientId())
	return &m2mv1.DeleteClientResponse{ClientId: res.ClientID}, nil
}

// SearchClients finds clients, a page at a time. Stytch has no status filter: a statuses operand
// (allowed only with AND) is applied to the returned page, so a page may hold fewer clients than the
// limit while next_cursor still leads on, and total counts the matches of the other filters.
func (s *M2M) SearchClients(ctx context.Context, req *m2mv1.SearchClientsRequest) (*m2mv1.SearchClientsResponse, error) {
	query, statuses, err := clientQuery(req.GetQuery())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.M2MClientSearch(ctx, stytchclient.SearchParams{Cursor: req.GetCursor(), Limit: req.GetLimit(), Query: query})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &m2mv1.SearchClientsResponse{
		M2MClients: make([]*m2mv1.Client, 0, len(res.M2MClients)),
		NextCursor: res.ResultsMetadata.NextCursor,
		Total:      clampInt32(res.ResultsMetadata.Total),
	}
	for i := range res.M2MClients {
		c := toClient(&res.M2MClients[i])
		if statuses != nil && !statuses[c.GetStatus()] {
			continue
		}
		out.M2MClients = append(out.M2MClients, c)
	}
	return out, nil
}

// clientQuery builds Stytch's query and returns the statuses to keep (nil: all).
func clientQuery(q *m2mv1.ClientSearchQuery) (*stytchclient.SearchQuery, map[m2mv1.ClientStatus]bool, error) {
	if q == nil {
		return nil, nil, nil
	}
	operator := "AND"
	if q.GetOperator() == m2mv1.SearchOperator_SEARCH_OPERATOR_OR {
		operator = "OR"
	}
	out := &stytchclient.SearchQuery{Operator: operator, Operands: []map[string]any{}}
	var statuses map[m2mv1.ClientStatus]bool
	for _, o := range q.GetOperands() {
		op := func(name string, v []string) {
			out.Operands = append(out.Operands, map[string]any{"filter_name": name, "filter_value": v})
		}
		switch f := o.GetFilter().(type) {
		case *m2mv1.ClientSearchOperand_ClientIds:
			op("client_id", f.ClientIds.GetValues())
		case *m2mv1.ClientSearchOperand_ClientNames:
			op("client_name", f.ClientNames.GetValues())
		case *m2mv1.ClientSearchOperand_Scopes:
			op("scopes", f.Scopes.GetValues())
		case *m2mv1.ClientSearchOperand_Statuses:
			if operator == "OR" {
				return nil, nil, rpcerr.InvalidArgument("query.operands.statuses", "unsupported_filter",
					"the statuses filter can only be combined with AND")
			}
			if statuses == nil {
				statuses = map[m2mv1.ClientStatus]bool{}
				for _, st := range f.Statuses.GetValues() {
					statuses[st] = true
				}
			} else {
				// Two statuses operands under AND: keep the intersection.
				keep := map[m2mv1.ClientStatus]bool{}
				for _, st := range f.Statuses.GetValues() {
					keep[st] = statuses[st]
				}
				statuses = keep
			}
		}
	}
	if len(out.Operands) == 0 {
		out = nil
	}
	return out, statuses, nil
}

// RotateSecretStart creates a next secret; both work until RotateSecret or RotateSecretCancel.
func (s *M2M) RotateSecretStart(ctx context.Context, req *m2mv1.RotateSecretStartRequest) (*m2mv1.RotateSecretStartResponse, error) {
	res, err := s.stytch.M2MSecretRotateStart(ctx, req.GetClientId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &m2mv1.RotateSecretStartResponse{M2MClient: toClient(&res.M2MClient.M2MClient), NextClientSecret: res.M2MClient.NextClientSecret}, nil
}

// RotateSecret completes a rotation; the old secret stops working at once, in authsvc's token cache
// too.
func (s *M2M) RotateSecret(ctx context.Context, req *m2mv1.RotateSecretRequest) (*m2mv1.RotateSecretResponse, error) {
	res, err := s.stytch.M2MSecretRotate(ctx, req.GetClientId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	s.credentialsChanged(req.GetClientId())
	return &m2mv1.RotateSecretResponse{M2MClient: toClient(&res.M2MClient)}, nil
}

// RotateSecretCancel abandons a rotation; the next secret stops working.
func (s *M2M) RotateSecretCancel(ctx context.Context, req *m2mv1.RotateSecretCancelRequest) (*m2mv1.RotateSecretCancelResponse, error) {
	res, err := s.stytch.M2MSecretRotateCancel(ctx, req.GetClientId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	s.credentialsChanged(req.GetClientId())
	return &m2mv1.RotateSecretCancelResponse{M2MClient: toClient(&res.M2MClient)}, nil
}

// IssueToken exchanges client credentials for an access token through the token cache.
func (s *M2M) IssueToken(ctx context.Context, req *m2mv1.IssueTokenRequest) (*m2mv1.IssueTokenResponse, error) {
	p := stytchclient.M2MTokenParams{ClientID: req.GetClientId(), ClientSecret: req.GetClientSecret(), Scopes: req.GetScopes()}
	tok, err := s.tokens.Token(ctx, p)
	if err == nil {
		if t, ok := s.changedAt(p.ClientID); ok && !tok.IssuedAt.After(t) {
			// Cached before the client's credentials changed: let Stytch check the secret again.
			tok, err = s.stytch.M2MTokenRaw(ctx, p)
			if err == nil && tok.IssuedAt.IsZero() {
				tok.IssuedAt = s.now()
			}
		}
	}
	if err != nil {
		return nil, s.toStatus(ctx, err, failClient)
	}
	return &m2mv1.IssueTokenResponse{
		AccessToken: tok.AccessToken,
		TokenType:   tok.TokenType,
		ExpiresIn:   clampInt32(tok.ExpiresIn),
		ExpiresAt:   timestamppb.New(tok.Expiry()),
	}, nil
}

// AuthenticateToken verifies an access token locally and checks its scopes: an invalid token is
// UNAUTHENTICATED, a valid one without a required scope PERMISSION_DENIED. No call to Stytch.
func (s *M2M) AuthenticateToken(ctx context.Context, req *m2mv1.AuthenticateTokenRequest) (*m2mv1.AuthenticateTokenResponse, error) {
	c, err := s.checker.CheckM2M(ctx, req.GetAccessToken(), req.GetRequiredScopes())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	if req.MaxTokenAgeSeconds != nil && s.now().Sub(c.IssuedAt) > time.Duration(req.GetMaxTokenAgeSeconds())*time.Second {
		return nil, s.toStatus(ctx, verify.ErrTooOld, nil)
	}
	return &m2mv1.AuthenticateTokenResponse{
		ClientId:     c.ClientID,
		Scopes:       c.Scopes,
		CustomClaims: toStruct(c.CustomClaims),
		ExpiresAt:    timestamppb.New(c.Expiry),
		IssuedAt:     timestamppb.New(c.IssuedAt),
	}, nil
}
