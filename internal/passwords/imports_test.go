package passwords

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNothingFromAuthsvc keeps the package (and its tests) self-contained:
// the consumer and B2B emulators both use it, and it must not pull either in.
// The external examples import only the package itself.
func TestImportsNothingFromAuthsvc(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/authsvc/authsvc") && path != "github.com/authsvc/authsvc/internal/passwords" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no Go files found")
	}
}
