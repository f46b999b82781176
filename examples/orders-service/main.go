// Command orders-service is a small HTTP service that sits behind authsvc, written the way another
// team would write it with the public client packages:
//
//   - package client/authn protects its endpoints: members of the web app (session JWT as Bearer or
//     the stytch_session_jwt cookie) and other services (M2M access token) are verified locally with
//     keys from authsvc, and roles or scopes are enforced per route;
//   - package client calls authsvc with the service's own M2M credentials (GET /me looks the member
//     up with MembersService.Get, which needs the read:members scope).
//
// Configuration (environment):
//
//	AUTHSVC_TARGET     authsvc gRPC address (default localhost:9090)
//	AUTHSVC_INSECURE   "true" to dial without TLS (authsvc in dev mode); default TLS
//	M2M_CLIENT_ID      this service's M2M client (required)
//	M2M_CLIENT_SECRET  its secret (required)
//	STYTCH_PROJECT_ID  the Stytch project (optional: learned from authsvc's GetJWKS)
//	LISTEN_ADDR        where to serve (default 127.0.0.1:8090)
//
// See README.md for a walkthrough against authsvc in dev mode.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/client/authn"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Getenv, log, nil); err != nil {
		log.Error("orders-service stopped", "error", err.Error())
		stop()
		os.Exit(1) //nolint:gocritic // stop() already ran
	}
}

// run serves until ctx ends. ready, when not nil, receives the bound address once serving (tests).
func run(ctx context.Context, getenv func(string) string, log *slog.Logger, ready chan<- string) error {
	target := envOr(getenv, "AUTHSVC_TARGET", "localhost:9090")
	listen := envOr(getenv, "LISTEN_ADDR", "127.0.0.1:8090")
	id, secret := getenv("M2M_CLIENT_ID"), getenv("M2M_CLIENT_SECRET")
	if id == "" || secret == "" {
		return errors.New("M2M_CLIENT_ID and M2M_CLIENT_SECRET are required")
	}
	opts := []client.Option{client.WithM2MCredentials(id, secret, "read:members")}
	if insecure, _ := strconv.ParseBool(getenv("AUTHSVC_INSECURE")); insecure {
		opts = append(opts, client.WithInsecure())
	}
	c, err := client.New(ctx, target, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()

	var aopts []authn.Option
	if p := getenv("STYTCH_PROJECT_ID"); p != "" {
		aopts = append(aopts, authn.WithProjectID(p))
	}
	aopts = append(aopts, authn.WithRealm("orders"), authn.WithLogger(log))
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := authn.New(startCtx, c, aopts...)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	if err := a.WaitReady(startCtx); err != nil {
		return err
	}

	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: routes(a, c, newStore()), ReadHeaderTimeout: 10 * time.Second}
	log.Info("orders-service listening", "addr", lis.Addr().String(), "authsvc", target)
	if ready != nil {
		ready <- lis.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// routes: who may do what.
//
//	GET    /healthz        anyone
//	GET    /whoami         any member or service: the authenticated caller
//	GET    /orders         members (their organization's orders) or services with read:orders (all)
//	POST   /orders         members
//	DELETE /orders/{id}    organization admins (stytch_admin) of the order's organization
//	GET    /me             members: their member record, fetched from authsvc with this service's
//	                       M2M token
func routes(a *authn.Authenticator, c *client.Client, s *store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.Handle("GET /whoami", a.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		writeJSON(w, http.StatusOK, p)
	})))
	mux.Handle("GET /orders", a.Middleware(authn.Members(), authn.Services("read:orders"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		org := p.OrganizationID // "" for a service: every organization
		writeJSON(w, http.StatusOK, map[string]any{"orders": s.list(org)})
	})))
	mux.Handle("POST /orders", a.Middleware(authn.Members())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		var in struct {
			Item string `json:"item"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Item == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": `body must be {"item": "..."}`})
			return
		}
		writeJSON(w, http.StatusCreated, s.add(p.OrganizationID, p.MemberID, in.Item))
	})))
	mux.Handle("DELETE /orders/{id}", a.Middleware(authn.Members("stytch_admin"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		if !s.remove(p.OrganizationID, r.PathValue("id")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such order in your organization"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("GET /me", a.Middleware(authn.Members())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		resp, err := c.Members().Get(r.Context(), &b2bv1.MembersServiceGetRequest{
			OrganizationId: p.OrganizationID,
			Lookup:         &b2bv1.MembersServiceGetRequest_MemberId{MemberId: p.MemberID},
		})
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": "authsvc: " + err.Error()})
			return
		}
		m := resp.GetMember()
		writeJSON(w, http.StatusOK, map[string]any{
			"member_id": m.GetMemberId(), "name": m.GetName(), "email_address": m.GetEmailAddress(), "roles": p.Roles,
		})
	})))
	return mux
}

type order struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	MemberID       string `json:"member_id"`
	Item           string `json:"item"`
}

// store is the service's own data: orders, kept per organization so members see only their own
// tenant's.
type store struct {
	mu     sync.Mutex
	next   int
	orders []order
}

func newStore() *store { return &store{} }

func (s *store) add(org, member, item string) order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	o := order{ID: strconv.Itoa(s.next), OrganizationID: org, MemberID: member, Item: item}
	s.orders = append(s.orders, o)
	return o
}

func (s *store) list(org string) []order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []order{}
	for _, o := range s.orders {
		if org == "" || o.OrganizationID == org {
			out = append(out, o)
		}
	}
	return out
}

func (s *store) remove(org, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.orders {
		if o.ID == id && o.OrganizationID == org {
			s.orders = append(s.orders[:i], s.orders[i+1:]...)
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}
