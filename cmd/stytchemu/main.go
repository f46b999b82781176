// Command stytchemu runs the Stytch emulator (internal/stytchemu) as a
// standalone server for frontend teams and manual testing. It serves a B2B
// project and, unless -consumer=false, a consumer project on the same
// address (stytchemu.Multi: requests go to the project named by their Basic
// auth). It prints the base URL and each project's ID and secret; point a
// Stytch SDK or authsvc (STYTCH_BASE_URL, STYTCH_PROJECT_ID, STYTCH_SECRET)
// at it.
//
// Flags:
//
//	-addr                 listen address (default 127.0.0.1:4010; use 127.0.0.1:0 for any free port)
//	-project-id           B2B project ID (default: a fresh project-test-<uuid>)
//	-secret               B2B project secret (default: a fresh secret-test-...)
//	-consumer             also serve a consumer project (default true)
//	-consumer-project-id  consumer project ID (default: a fresh project-test-<uuid>)
//	-consumer-secret      consumer project secret (default: a fresh secret-test-...)
//	-seed-sandbox         seed Stytch's sandbox organization, sandbox user and sandbox values (default true)
//	-redirect-url         default magic-link redirect URL
//	-v                    log every request (method, route, status; never bodies)
//
// A login with curl (values from the banner; jq optional):
//
//	URL=http://127.0.0.1:4010 P=project-test-... S=secret-test-...
//	ORG=organization-test-007d9d4a-deac-4a87-ba0a-e6e8afba4d4b   # the sandbox organization
//
//	# 1. send a login-or-signup magic link
//	curl -s -u "$P:$S" -H 'Content-Type: application/json' \
//	  -d "{\"organization_id\":\"$ORG\",\"email_address\":\"ada@example.com\"}" \
//	  $URL/v1/b2b/magic_links/email/login_or_signup
//
//	# 2. read the token from the outbox (emulator-only endpoint, no auth)
//	TOKEN=$(curl -s "$URL/emulator/outbox?to=ada@example.com" | jq -r '.messages[-1].token')
//
//	# 3. authenticate it: session_token and session_jwt come back
//	curl -s -u "$P:$S" -H 'Content-Type: application/json' \
//	  -d "{\"magic_links_token\":\"$TOKEN\",\"session_duration_minutes\":60}" \
//	  $URL/v1/b2b/magic_links/authenticate | jq '{session_token, session_jwt, member_authenticated}'
//
//	# 4. check the session (remote) and fetch the JWKS (public)
//	curl -s -u "$P:$S" -H 'Content-Type: application/json' -d '{"session_token":"<from step 3>"}' \
//	  $URL/v1/b2b/sessions/authenticate
//	curl -s $URL/v1/b2b/sessions/jwks/$P
//
// A consumer login works the same way with the consumer credentials
// (C=consumer project ID, CS=its secret): POST /v1/magic_links/email/login_or_create
// {"email": ...}, then GET /emulator/outbox?project_id=$C&to=..., then
// POST /v1/magic_links/authenticate {"token": ..., "session_duration_minutes": 60};
// its JWKS is GET /v1/sessions/jwks/$C.
//
// Control endpoints (/emulator/outbox, /emulator/faults, /emulator/clock/advance,
// /emulator/keys/rotate, /emulator/requests) are described in package stytchemu.
// They hand out live tokens: keep the listener on loopback or a trusted network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// exitCode is the process's exit status for run's error: 0 for success and for -help (the usage has
// been printed, as asked), 2 for other flag errors (flag's own convention), 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlags):
		_, _ = fmt.Fprintln(stderr, "stytchemu:", err)
		return 2
	default:
		_, _ = fmt.Fprintln(stderr, "stytchemu:", err)
		return 1
	}
}

// errFlags marks a command-line error.
var errFlags = errors.New("flags")

// run starts the emulator and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serve(ctx, args, stdout, stderr, nil)
}

// serve is run with a hook: ready, when not nil, receives the server once
// it listens (tests use it instead of parsing the banner).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- *stytchemu.Server) error {
	fs := flag.NewFlagSet("stytchemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4010", "listen address (127.0.0.1:0 picks a free port)")
	projectID := fs.String("project-id", "", "project ID (default: generated project-test-<uuid>)")
	secret := fs.String("secret", "", "project secret (default: generated)")
	consumer := fs.Bool("consumer", true, "also serve a consumer project on the same address")
	consumerID := fs.String("consumer-project-id", "", "consumer project ID (default: generated project-test-<uuid>)")
	consumerSecret := fs.String("consumer-secret", "", "consumer project secret (default: generated)")
	sandbox := fs.Bool("seed-sandbox", true, "seed Stytch's sandbox organization, sandbox user and sandbox values")
	redirect := fs.String("redirect-url", stytchemu.DefaultRedirectURL, "default magic-link redirect URL")
	policyFile := fs.String("rbac-policy", "", "JSON file of the B2B project's custom RBAC policy (resources, roles), merged into Stytch's default roles; \"example\": the shipped example (billing_admin, finance); empty: the defaults only")
	trustedFile := fs.String("trusted-auth-profiles", "example", "JSON file of the B2B project's trusted auth token profiles (sessions/attest); \"example\": the shipped example profile, whose tokens POST /emulator/trusted_auth_tokens mints; empty: none")
	userInfoURL := fs.String("userinfo-url", "", "the external OIDC provider's UserInfo endpoint that B2B sessions/migrate calls; empty: migrate is refused")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errFlags, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errFlags, fs.Arg(0))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var policy *rbac.Policy
	switch *policyFile {
	case "":
	case "example":
		policy = rbac.Example()
	default:
		var err error
		if policy, err = rbac.LoadFile(*policyFile); err != nil {
			return fmt.Errorf("%w: -rbac-policy: %w", errFlags, err)
		}
	}
	var trusted []stytchemu.TrustedAuthProfile
	switch *trustedFile {
	case "":
	case "example":
		p, err := stytchemu.ExampleTrustedAuthProfile()
		if err != nil {
			return err //nolint:wrapcheck // already prefixed "stytchemu:"
		}
		trusted = append(trusted, p)
	default:
		var err error
		if trusted, err = stytchemu.LoadTrustedAuthProfiles(*trustedFile); err != nil {
			return fmt.Errorf("%w: -trusted-auth-profiles: %w", errFlags, err)
		}
	}
	project := func(t stytchemu.ProjectType, id, secret string) (*stytchemu.Emulator, error) {
		opts := []stytchemu.Option{
			stytchemu.WithProjectType(t),
			stytchemu.WithLogger(logger.With("project", string(t))),
			stytchemu.WithRedirectURL(*redirect),
		}
		if id != "" {
			opts = append(opts, stytchemu.WithProjectID(id))
		}
		if secret != "" {
			opts = append(opts, stytchemu.WithSecret(secret))
		}
		if *sandbox {
			opts = append(opts, stytchemu.WithSandbox())
		}
		if policy != nil {
			opts = append(opts, stytchemu.WithRBACPolicy(policy))
		}
		if t == stytchemu.ProjectB2B {
			opts = append(opts, stytchemu.WithTrustedAuthProfiles(trusted...), stytchemu.WithUserInfoURL(*userInfoURL))
		}
		return stytchemu.New(opts...) //nolint:wrapcheck // already prefixed "stytchemu:"
	}
	b2b, err := project(stytchemu.ProjectB2B, *projectID, *secret)
	if err != nil {
		return err
	}
	projects := []*stytchemu.Emulator{b2b}
	if *consumer {
		c, err := project(stytchemu.ProjectConsumer, *consumerID, *consumerSecret)
		if err != nil {
			return err
		}
		projects = append(projects, c)
	}
	multi, err := stytchemu.NewMulti(projects...)
	if err != nil {
		return fmt.Errorf("%w: %w", errFlags, err)
	}
	srv, err := multi.Listen(ctx, *addr)
	if err != nil {
		return err //nolint:wrapcheck // already says "stytchemu: listen ..."
	}
	if err := banner(stdout, srv, projects, *sandbox); err != nil {
		_ = srv.Close()
		return err
	}
	if ready != nil {
		ready <- srv
	}
	<-ctx.Done()
	if err := srv.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err //nolint:wrapcheck // already prefixed
	}
	return nil
}

func banner(w io.Writer, srv *stytchemu.Server, projects []*stytchemu.Emulator, sandbox bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Stytch emulator listening (fake credentials, not for production)\n")
	fmt.Fprintf(&b, "  base URL:   %s\n", srv.URL)
	fmt.Fprintf(&b, "  project ID: %s\n", srv.ProjectID())
	fmt.Fprintf(&b, "  secret:     %s\n", srv.Secret())
	if sandbox {
		fmt.Fprintf(&b, "  sandbox organization: %s (member %s)\n", stytchemu.SandboxOrganizationID, stytchemu.SandboxEmail)
	}
	for _, p := range projects[1:] {
		fmt.Fprintf(&b, "  consumer project ID: %s\n", p.ProjectID())
		fmt.Fprintf(&b, "  consumer secret:     %s\n", p.Secret())
		fmt.Fprintf(&b, "  consumer public token (OAuth start URLs): %s\n", p.PublicToken())
		if sandbox {
			fmt.Fprintf(&b, "  sandbox user: %s (%s, %s)\n", stytchemu.SandboxUserID, stytchemu.SandboxEmail, stytchemu.SandboxPhoneNumber)
		}
	}
	fmt.Fprintf(&b, "  outbox:     %s/emulator/outbox\n", srv.URL)
	if len(projects) > 1 {
		fmt.Fprintf(&b, "  (control endpoints act on the B2B project; add ?project_id=<consumer project ID> for the consumer one)\n")
	}
	fmt.Fprintf(&b, "  try: curl -s -u '%s:%s' %s/v1/b2b/organizations/search -H 'Content-Type: application/json' -d '{}'\n",
		srv.ProjectID(), srv.Secret(), srv.URL)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("print banner: %w", err)
	}
	return nil
}
