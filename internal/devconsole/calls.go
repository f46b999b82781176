package devconsole

import (
	_ "embed" // the console's source, for Calls
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Source is the console's TypeScript source, embedded so tests anywhere can list its calls.
//
//go:embed src/console.ts
var Source []byte

// Call is one REST call the console makes: an HTTP method and a path.
type Call struct {
	Method string
	Path   string
}

func (c Call) String() string { return c.Method + " " + c.Path }

// The shapes of a call in src/console.ts: the typed clients (api.POST("/v1/..."), admin.PUT(...)), devFetch("GET",
// "/dev/...") and fetch("/dev/...") (a GET).
var (
	clientCall = regexp.MustCompile(`\b(?:api|admin)\.(GET|POST|PUT|PATCH|DELETE)\(\s*"([^"]+)"`)
	devCall    = regexp.MustCompile(`\bdevFetch\(\s*"(GET|POST)",\s*"([^"]+)"`)
	fetchCall  = regexp.MustCompile(`\bfetch\(\s*"([^"]+)"`)
)

// Calls lists the REST calls named in src, in order of appearance, each once.
func Calls(src []byte) []Call {
	var out []Call
	seen := map[Call]bool{}
	add := func(c Call) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	s := string(src)
	for _, m := range clientCall.FindAllStringSubmatch(s, -1) {
		add(Call{m[1], m[2]})
	}
	for _, m := range devCall.FindAllStringSubmatch(s, -1) {
		add(Call{m[1], m[2]})
	}
	for _, m := range fetchCall.FindAllStringSubmatch(s, -1) {
		add(Call{"GET", m[1]})
	}
	return out
}

// NotInOpenAPI returns the calls to /v1/ paths that are not an operation of the OpenAPI 2 document
// spec (gen/openapiv2, the gateway's routes).
func NotInOpenAPI(calls []Call, spec []byte) ([]Call, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	var missing []Call
	for _, c := range calls {
		if !strings.HasPrefix(c.Path, "/v1/") {
			continue
		}
		if _, ok := doc.Paths[c.Path][strings.ToLower(c.Method)]; !ok {
			missing = append(missing, c)
		}
	}
	return missing, nil
}
