// Package docs holds the project's documentation; its test keeps the documentation true to the
// repository.
package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository stands alone: no README, doc or comment cites a document that is not in it (the
// team's design notes and Stytch reference live elsewhere; what a user needs from them is in docs/).
func TestNothingCitesDocumentsOutsideTheRepo(t *testing.T) {
	outside := regexp.MustCompile(`\b(DESIGN|SEMANTICS|STYLE)\.md\b|\.\./shared/`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			switch name {
			case ".git", ".cache", "node_modules", ".ci":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".md", ".proto", ".sh", ".yaml", ".yml", ".json":
		default:
			if name != "Makefile" && name != "Dockerfile" {
				return nil
			}
		}
		if name == "docs_test.go" {
			return nil // names the pattern it looks for
		}
		b, err := os.ReadFile(path) //nolint:gosec // walking the repository's own files
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if outside.MatchString(line) {
				t.Errorf("%s:%d cites a document outside the repository: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// Every relative link of the README and of docs/*.md leads to a file or folder of the repository.
func TestRelativeLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	pages, err := filepath.Glob("*.md")
	require.NoError(t, err)
	pages = append(pages, filepath.Join("..", "README.md"), filepath.Join("..", "deploy", "README.md"))
	for _, page := range pages {
		b, err := os.ReadFile(page) //nolint:gosec // the repository's own pages
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			_, err := os.Stat(filepath.Join(filepath.Dir(page), target))
			assert.NoError(t, err, "%s links to %s, which is not in the repository", page, target)
		}
	}
}
