// Command authsvc runs the authsvc API: gRPC on :9090, REST on :8080, metrics and pprof on :9091.
//
// With no STYTCH_PROJECT_ID it starts in dev mode against an embedded Stytch emulator, so
//
//	go run ./cmd/authsvc
//
// works on a fresh machine with no Stytch account. Configuration is by environment variable or the
// flag of the same meaning (authsvc -help lists both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
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
	if err := a.Run(ctx); err != nil {
		a.Logger().Error("authsvc exited with an error", "error", err)
		return 1
	}
	return 0
}
