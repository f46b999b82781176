// Command authsvc runs the authsvc API: gRPC on :9090, REST on :8080, metrics and pprof on :9091.
//
// It fronts a Stytch B2B project (STYTCH_PROJECT_ID, STYTCH_SECRET), a consumer project
// (STYTCH_CONSUMER_PROJECT_ID, STYTCH_CONSUMER_SECRET), or both. With neither it starts in dev mode
// against an embedded Stytch emulator serving a B2B and a consumer project, so
//
//	go run ./cmd/authsvc
//
// works on a fresh machine with no Stytch account, for both APIs. Dev mode listens on 127.0.0.1 only (it serves
// login tokens at /dev/outbox); another address needs AUTHSVC_DEV_LISTEN_PUBLIC and is warned about.
// Configuration is by environment variable or the flag of the same meaning (authsvc -help lists
// both).
//
// "authsvc rules check FILE" validates an edge rules file (AUTHSVC_EDGE_RULES); "authsvc rules test
// FILE METHOD URL [HEADER...]" shows which rule a request matches and why.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) > 1 && os.Args[1] == "rules" {
		return rulesCommand(os.Args[2:], os.Stdout, os.Stderr)
	}
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "authsvc: configuration:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := app.New(ctx, cfg, app.Options{Version: version, SetGlobals: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "authsvc: startup:", err)
		return 1
	}
	warnDevExposure(a.Logger(), cfg)
	if err := a.Run(ctx); err != nil {
		a.Logger().Error("authsvc exited with an error", "error", err)
		return 1
	}
	return 0
}

// devExposure says what the dev-mode listener of the setting env serves to whoever can reach it.
func devExposure(env string) string {
	switch env {
	case "AUTHSVC_HTTP_ADDR":
		return "REST: login tokens and codes at GET /dev/outbox, unauthenticated M2M client creation at POST /dev/m2m/clients, " +
			"the dev console at /dev/ (the outbox, sign-in and M2M token minting for anyone who opens it)"
	case "AUTHSVC_GRPC_ADDR":
		return "gRPC: the API against the embedded emulator"
	default:
		return "admin: /metrics and /debug/pprof"
	}
}

// warnDevExposure logs one loud line when dev mode listens beyond loopback (allowed only with
// AUTHSVC_DEV_LISTEN_PUBLIC), naming each exposed address and what it serves.
func warnDevExposure(log *slog.Logger, cfg *config.Config) {
	exposed := cfg.ExposedDevAddrs()
	if len(exposed) == 0 {
		return
	}
	what := make([]string, 0, len(exposed))
	for _, e := range exposed {
		name, addr, _ := strings.Cut(e, "=")
		what = append(what, addr+" ("+devExposure(name)+")")
	}
	log.Warn("DEV MODE ON THE NETWORK: AUTHSVC_DEV_LISTEN_PUBLIC is set, so anyone who can reach "+
		strings.Join(what, "; ")+" can use it. Never do this on a shared or public network.",
		slog.Any("exposed", exposed))
}
