package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
)

// The interceptor chain's order is a decision: the gateway's forwarded facts are trusted before
// anything reads them; the access log wraps everything so that refusals are logged too; a request
// that did not decode is refused before anyone reads it; the caller is known before idempotency
// keys (scoped by caller) and budgets (per caller); a replay spends no budget; budgets are spent
// before validation reaches handlers; recovery is innermost so a panic still passes the log.
var chainOrder = []string{"gateway-trust", "access-log", "decode-check", "access", "idempotency", "admission", "validate", "recover"}

func TestInterceptorChainOrder(t *testing.T) {
	env := apptest.Start(t)
	assert.Equal(t, chainOrder, env.App.Chain())
}

// The request-path pictures of the README and of docs/architecture.md show the chain as it is
// built: each has one line listing the steps in order.
func TestRequestPathPicturesShowTheChain(t *testing.T) {
	want := strings.Join(chainOrder, " → ")
	for _, doc := range []string{"README.md", "docs/architecture.md"} {
		t.Run(doc, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", doc))
			require.NoError(t, err)
			var lines []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, chainOrder[0]+" →") {
					lines = append(lines, strings.TrimSpace(l))
				}
			}
			require.Len(t, lines, 1, "%s has one line that lists the chain", doc)
			assert.Equal(t, want, lines[0])
		})
	}
}
