// Command docgen writes docs/access.md, the table of who may call what, from the policy option of
// every authsvc RPC (internal/policy). make generate runs it; make checkgenerate fails when the
// committed page differs from what it writes.
//
// Usage: go run ./internal/policy/docgen docs/access.md
package main

import (
	"fmt"
	"os"

	_ "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1" // the services whose policies are rendered
	_ "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	_ "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/policy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: docgen OUTPUT.md")
		os.Exit(2)
	}
	rpcs, err := policy.Load(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], policy.Markdown(rpcs), 0o644); err != nil { //nolint:gosec // a documentation page, world-readable on purpose
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
