package access

import (
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// FuzzBearerClassify feeds arbitrary authorization header values through the parsing and the
// unverified classification. It must never panic, and what it routes must have the shape the route
// expects: only JWT-shaped tokens go to the JWT verifiers, only plausible opaque tokens to Stytch.
// Seeds: testdata/fuzz/FuzzBearerClassify.
func FuzzBearerClassify(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", header))
		c := credentialFrom(ctx)
		tok, ok := bearerToken(header)
		switch {
		case !ok:
			if c.kind != credMalformed {
				t.Fatalf("unparseable header %q classified %v", header, c.kind)
			}
			return
		case tok == "" || strings.ContainsAny(tok, " \t"):
			t.Fatalf("bearerToken(%q) = %q", header, tok)
		case !strings.EqualFold(header[:len("bearer")], "bearer"):
			t.Fatalf("accepted scheme of %q", header)
		}
		if c.token != tok || c.kind != classifyBearer(tok) {
			t.Fatalf("credentialFrom and classifyBearer disagree on %q", header)
		}
		switch c.kind {
		case credSessionJWT, credM2M:
			if strings.Count(tok, ".") != 2 || len(tok) > verify.MaxTokenBytes {
				t.Fatalf("%q routed to a JWT verifier", tok)
			}
		case credSessionToken:
			if strings.Contains(tok, ".") || !opaqueTokenOK(tok) {
				t.Fatalf("%q routed to Stytch as an opaque token", tok)
			}
		case credMalformed:
		default:
			t.Fatalf("unexpected kind %v for %q", c.kind, tok)
		}
	})
}
