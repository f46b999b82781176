package client_test

import (
	"bufio"
	"bytes"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// consumerMain uses the public API the way another team's module would, spelling out every type it
// touches: if a signature needed an internal type, this program could not be written, and the build
// below would fail.
const consumerMain = `package main

import (
	"context"
	"crypto/tls"
	"log"
	"net/http"
	"time"

	"google.golang.org/grpc"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/client/authn"
)

func main() {
	ctx := context.Background()
	opts := []client.Option{
		client.WithTLS(&tls.Config{MinVersion: tls.VersionTLS12}),
		client.WithTimeout(time.Second),
		client.WithM2MCredentials("id", "secret", "read:members"),
		client.WithClock(time.Now),
		client.WithDialOptions(grpc.WithUserAgent("consumer")),
	}
	var c *client.Client
	c, err := client.New(ctx, "localhost:9090", opts...)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var (
		_ b2bv1.MagicLinksServiceClient = c.MagicLinks()
		_ b2bv1.OTPsServiceClient       = c.OTPs()
		_ b2bv1.SessionsServiceClient   = c.Sessions()
		_ b2bv1.MembersServiceClient    = c.Members()
		_ b2bv1.DiscoveryServiceClient  = c.Discovery()
		_ m2mv1.M2MServiceClient        = c.M2M()
		_ *client.Consumer              = c.Consumer()
		_ consumerv1.MagicLinksServiceClient = c.Consumer().MagicLinks()
		_ consumerv1.OTPsServiceClient       = c.Consumer().OTPs()
		_ consumerv1.SessionsServiceClient   = c.Consumer().Sessions()
		_ consumerv1.UsersServiceClient      = c.Consumer().Users()
		_ consumerv1.PasswordsServiceClient  = c.Consumer().Passwords()
		_ consumerv1.OAuthServiceClient      = c.Consumer().OAuth()
		_ consumerv1.TOTPsServiceClient      = c.Consumer().TOTPs()
		_ consumerv1.CryptoWalletsServiceClient = c.Consumer().CryptoWallets()
		_ consumerv1.WebAuthnServiceClient   = c.Consumer().WebAuthn()
		_ *grpc.ClientConn              = c.Conn()
		_ []string                      = client.RetriedMethods()
		_ func(context.Context) (string, error) = c.AccessToken
	)

	var a *authn.Authenticator
	a, err = authn.New(ctx, c, authn.WithProjectID("project-test-1"), authn.WithClock(time.Now), authn.WithRealm("orders"), authn.WithConsumerSessions("project-test-2"))
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	var mw func(http.Handler) http.Handler = a.Middleware(authn.Members("stytch_admin"), authn.Users(), authn.Services("read:orders"))
	var ui grpc.UnaryServerInterceptor = a.UnaryServerInterceptor()
	var si grpc.StreamServerInterceptor = a.StreamServerInterceptor()
	_, _, _ = mw, ui, si
	var p *authn.Principal
	p, err = a.Authenticate(ctx, "token")
	var e *authn.Error
	_ = e
	p, _ = authn.PrincipalFrom(authn.NewContext(ctx, p))
	_ = authn.Authorize(p)
}
`

// TestSeparateModuleBuilds builds a program in its own module that imports the client packages
// through a replace directive, as another team's repository would.
func TestSeparateModuleBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	goMod := "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/authsvc/authsvc v0.0.0\n\nreplace github.com/authsvc/authsvc => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o600))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o600))

	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	// -mod=mod lets go add the requirements the replaced module brings; everything comes from the
	// module cache (or GOPROXY as the environment sets it). GOWORK=off: no workspace of the host.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build in the consumer module:\n%s", out)
}

// TestPublicAPIHasNoInternalTypes walks every exported declaration of the public packages (function
// signatures, struct fields, methods) and fails on any type from an internal package: such a type
// would be unusable, and unnameable, for an importing module.
func TestPublicAPIHasNoInternalTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks from export data")
	}
	exports := exportData(t, "github.com/authsvc/authsvc/client", "github.com/authsvc/authsvc/client/authn")
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, os.ErrNotExist
		}
		return os.Open(f) //nolint:gosec // a path go list printed
	})
	for _, path := range []string{"github.com/authsvc/authsvc/client", "github.com/authsvc/authsvc/client/authn"} {
		t.Run(path, func(t *testing.T) {
			pkg, err := imp.Import(path)
			require.NoError(t, err)
			var leaks []string
			seen := map[types.Type]bool{}
			scope := pkg.Scope()
			for _, name := range scope.Names() {
				obj := scope.Lookup(name)
				if !obj.Exported() {
					continue
				}
				walkType(obj.Type(), seen, func(where string) { leaks = append(leaks, name+": "+where) })
			}
			require.Empty(t, leaks, "internal types in the public API")
		})
	}
}

func walkType(typ types.Type, seen map[types.Type]bool, leak func(string)) {
	if seen[typ] {
		return
	}
	seen[typ] = true
	switch t := typ.(type) {
	case *types.Named:
		if obj := t.Obj(); obj.Pkg() != nil && isInternal(obj.Pkg().Path()) {
			leak(obj.Pkg().Path() + "." + obj.Name())
			return
		}
		if obj := t.Obj(); obj.Pkg() != nil && !strings.HasPrefix(obj.Pkg().Path(), "github.com/authsvc/authsvc/client") {
			return // a foreign package's type: its own API is not ours to check
		}
		for i := range t.NumMethods() {
			if m := t.Method(i); m.Exported() {
				walkType(m.Type(), seen, leak)
			}
		}
		walkType(t.Underlying(), seen, leak)
	case *types.Struct:
		for i := range t.NumFields() {
			if f := t.Field(i); f.Exported() {
				walkType(f.Type(), seen, leak)
			}
		}
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				walkType(tup.At(i).Type(), seen, leak)
			}
		}
	case *types.Pointer:
		walkType(t.Elem(), seen, leak)
	case *types.Slice:
		walkType(t.Elem(), seen, leak)
	case *types.Array:
		walkType(t.Elem(), seen, leak)
	case *types.Map:
		walkType(t.Key(), seen, leak)
		walkType(t.Elem(), seen, leak)
	case *types.Chan:
		walkType(t.Elem(), seen, leak)
	case *types.Interface:
		for i := range t.NumMethods() {
			walkType(t.Method(i).Type(), seen, leak)
		}
	}
}

func isInternal(path string) bool {
	return strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// exportData maps import paths to compiled export data (go list -export), for the packages and all
// their dependencies.
func exportData(t *testing.T, pkgs ...string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, pkgs...)
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	require.NoError(t, err)
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "\t"); ok && file != "" {
			m[path] = file
		}
	}
	return m
}

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	require.NoError(t, err)
	return filepath.Dir(strings.TrimSpace(string(out)))
}
