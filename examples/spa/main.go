// Command spa serves the example single-page app: a static page (static/, embedded) that signs in
// through authsvc's REST API from the browser and then calls examples/orders-service with the
// session, showing the path browser → authsvc → service.
//
// The page runs on its own origin, not authsvc's: it calls authsvc cross-origin with
// credentials: 'include' (authsvc must list this origin in AUTHSVC_CORS_ORIGINS), and authsvc sets
// the session cookies HttpOnly, so page scripts never see a token. Cookies belong to a host, not a
// port, so with the page and authsvc on the same host the browser also sends the session cookie to
// this server's /api/, which forwards it to the orders service; the orders service verifies the
// session JWT in the cookie locally (client/authn).
//
// Configuration (environment):
//
//	AUTHSVC_URL      authsvc's REST base URL as the browser reaches it (default http://localhost:8080)
//	ORGANIZATION_ID  the organization members sign in to (default: the dev-mode sandbox organization)
//	ORDERS_URL       the orders service (default http://127.0.0.1:8090); /api/x is forwarded to /x
//	LISTEN_ADDR      where to serve (default 127.0.0.1:3000, the dev-mode redirect URL's origin)
//
// See README.md ("Example single-page app").
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

//go:embed static
var static embed.FS

// sandboxOrganizationID is the organization dev mode seeds (internal/stytchemu).
const sandboxOrganizationID = "organization-test-007d9d4a-deac-4a87-ba0a-e6e8afba4d4b"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Getenv, log, nil); err != nil {
		log.Error("spa stopped", "error", err.Error())
		stop()
		os.Exit(1) //nolint:gocritic // stop() already ran
	}
}

// Config is what the page learns from /config.json.
type Config struct {
	AuthsvcURL     string `json:"authsvc"`
	OrganizationID string `json:"organization_id"`
}

// run serves until ctx ends. ready, when not nil, receives the bound address once serving (tests).
func run(ctx context.Context, getenv func(string) string, log *slog.Logger, ready chan<- string) error {
	cfg := Config{
		AuthsvcURL:     envOr(getenv, "AUTHSVC_URL", "http://localhost:8080"),
		OrganizationID: envOr(getenv, "ORGANIZATION_ID", sandboxOrganizationID),
	}
	orders, err := url.Parse(envOr(getenv, "ORDERS_URL", "http://127.0.0.1:8090"))
	if err != nil || orders.Host == "" {
		return fmt.Errorf("ORDERS_URL: not an absolute URL")
	}
	h, err := Handler(cfg, orders)
	if err != nil {
		return err
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", envOr(getenv, "LISTEN_ADDR", "127.0.0.1:3000"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("spa listening", "addr", lis.Addr().String(), "authsvc", cfg.AuthsvcURL, "orders", orders.String())
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
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Handler serves the page, its configuration, and /api/ forwarded to the orders service.
//
//	GET /               the page (also at /authenticate, where the emailed login link lands)
//	GET /config.json    authsvc's URL and the organization
//	/api/...            forwarded to the orders service without the /api prefix, cookies included
func Handler(cfg Config, orders *url.URL) (http.Handler, error) {
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	fileServer := http.FileServerFS(files)
	mux.Handle("/", fileServer)
	mux.HandleFunc("GET /authenticate", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(orders)
		r.Out.URL.Path = r.In.URL.Path[len("/api"):]
		r.Out.URL.RawPath = ""
	}}
	mux.Handle("/api/", proxy)
	return securityHeaders(mux), nil
}

// securityHeaders: the page loads only its own scripts and talks only to itself and authsvc.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer") // the login link's token stays out of Referer
		next.ServeHTTP(w, r)
	})
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}
