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
			if c.Kind != CredentialMalformed {
				t.Fatalf("unparseable header %q classified %v", header, c.Kind)
			}
			return
		case tok == "" || strings.ContainsAny(tok, " \t"):
			t.Fatalf("bearerToken(%q) = %q", header, tok)
		case !strings.EqualFold(header[:len("bearer")], "bearer"):
			t.Fatalf("accepted scheme of %q", header)
		}
		if c.Token != tok || c.Kind != classifyBearer(tok) {
			t.Fatalf("credentialFrom and classifyBearer disagree on %q", header)
		}
		switch c.Kind {
		case CredentialSessionJWT, CredentialM2M:
			if strings.Count(tok, ".") != 2 || len(tok) > verify.MaxTokenBytes {
				t.Fatalf("%q routed to a JWT verifier", tok)
			}
		case CredentialSessionToken:
			if strings.Contains(tok, ".") || !opaqueTokenOK(tok) {
				t.Fatalf("%q routed to Stytch as an opaque token", tok)
			}
		case CredentialMalformed:
		default:
			t.Fatalf("unexpected kind %v for %q", c.Kind, tok)
		}
	})
}
