package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// The file's shape, decoded strictly: a misspelt field is an error naming its line.
type fileDoc struct {
	Rules []rawRule `yaml:"rules"`
}

type rawRule struct {
	Name            string      `yaml:"name"`
	Match           rawMatch    `yaml:"match"`
	Public          *bool       `yaml:"public"`
	Session         *rawSession `yaml:"session"`
	M2M             *rawM2M     `yaml:"m2m"`
	RedirectToLogin string      `yaml:"redirect_to_login"`
}

type rawMatch struct {
	Hosts       []string `yaml:"hosts"`
	PathPrefix  string   `yaml:"path_prefix"`
	PathPattern string   `yaml:"path_pattern"`
	Methods     []string `yaml:"methods"`
}

type rawSession struct {
	Kind             string   `yaml:"kind"`
	Roles            []string `yaml:"roles"`
	OrganizationFrom *rawOrg  `yaml:"organization_from"`
	MaxAge           string   `yaml:"max_age"`
	Factors          []string `yaml:"factors"`
	Permission       *rawPerm `yaml:"permission"`
}

type rawPerm struct {
	Resource string `yaml:"resource"`
	Action   string `yaml:"action"`
}

type rawOrg struct {
	PathParam string `yaml:"path_param"`
	Header    string `yaml:"header"`
}

type rawM2M struct {
	Scopes []string `yaml:"scopes"`
}

// Error is a rules file that does not validate: every problem, each naming the file, the line and
// the field.
type Error struct {
	File     string
	Problems []Problem
}

// Problem is one thing wrong with a rules file.
type Problem struct {
	Line  int
	Field string // e.g. rules[2].session.max_age; empty when the file could not be read as YAML
	Msg   string
}

func (e *Error) Error() string {
	msgs := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		loc := e.File
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
		}
		if p.Field != "" {
			msgs = append(msgs, fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg))
		} else {
			msgs = append(msgs, fmt.Sprintf("%s: %s", loc, p.Msg))
		}
	}
	return strings.Join(msgs, "; ")
}

// maxFileSize bounds a rules file: it is read whole on every reload.
const maxFileSize = 1 << 20

// LoadFile reads and validates the rules file at path.
func LoadFile(path string) (*Set, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the rules file
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: path, Problems: []Problem{{Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}}}
	}
	return Parse(path, data)
}

// Parse validates a rules file's content; name is the file's name in errors.
func Parse(name string, data []byte) (*Set, error) {
	var doc fileDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Problems: []Problem{{Msg: "empty file: expected a rules: list"}}}
		}
		return nil, &Error{File: name, Problems: yamlProblems(err)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil { // decoded above, so cannot fail
		return nil, &Error{File: name, Problems: yamlProblems(err)}
	}
	v := validator{root: &root}
	set := &Set{}
	names := map[string]int{}
	for i := range doc.Rules {
		r := v.rule(i, &doc.Rules[i])
		if r == nil {
			continue
		}
		if first, dup := names[r.Name]; dup {
			v.add(i, "name", "%q is also the name of the rule on line %d", r.Name, first)
		}
		names[r.Name] = r.Line
		set.rules = append(set.rules, r)
	}
	if v.rulesKeyMissing() {
		v.problems = append(v.problems, Problem{Line: 1, Field: "rules", Msg: "missing: expected a rules: list"})
	}
	if len(v.problems) > 0 {
		return nil, &Error{File: name, Problems: v.problems}
	}
	return set, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlProblems turns the YAML decoder's errors ("line 4: field x not found in type ...") into
// problems with their lines.
func yamlProblems(err error) []Problem {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{Msg: m}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			p.Line, _ = strconv.Atoi(sub[1])
			p.Msg = cleanTypeNames(sub[2])
		}
		out = append(out, p)
	}
	return out
}

// cleanTypeNames drops the Go type names from the decoder's messages ("field x not found in type
// rules.rawMatch" reads "field x is not known here").
func cleanTypeNames(m string) string {
	if i := strings.Index(m, " not found in type "); i >= 0 {
		return m[:i] + " is not a known field here"
	}
	return m
}

type validator struct {
	root     *yaml.Node
	problems []Problem
}

func (v *validator) rulesKeyMissing() bool { return v.rulesNode() == nil }

func (v *validator) rulesNode() *yaml.Node {
	if v.root == nil || len(v.root.Content) == 0 {
		return nil
	}
	return child(v.root.Content[0], "rules")
}

// line returns the line of the field at path inside rule i (the deepest part found).
func (v *validator) line(i int, path ...string) int {
	seq := v.rulesNode()
	if seq == nil || i >= len(seq.Content) {
		return 0
	}
	n := seq.Content[i]
	line := n.Line
	for _, key := range path {
		c := keyNode(n, key)
		if c == nil {
			break
		}
		line = c.Line
		n = child(n, key)
	}
	return line
}

func (v *validator) add(i int, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		Line:  v.line(i, strings.Split(field, ".")...),
		Field: fmt.Sprintf("rules[%d].%s", i, field),
		Msg:   fmt.Sprintf(format, args...),
	})
}

// keyNode returns the key node of a mapping's member key; child returns its value.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			return m.Content[j]
		}
	}
	return nil
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			return m.Content[j+1]
		}
	}
	return nil
}

var (
	ruleName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	httpToken  = regexp.MustCompile(`^[!#$%&'*+.^_` + "`" + `|~0-9A-Za-z-]+$`)
	hostName   = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	headerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// factorTypes are the authentication factor types Stytch records on sessions (B2B and consumer).
var factorTypes = []string{
	"biometric", "crypto", "email_otp", "impersonated", "imported", "magic_link", "oauth", "otp",
	"password", "recovery_codes", "signature_challenge", "sso", "totp", "trusted_auth_token", "webauthn",
}

func (v *validator) rule(i int, raw *rawRule) *Rule {
	before := len(v.problems)
	r := &Rule{Name: raw.Name, Line: v.line(i), RedirectToLogin: raw.RedirectToLogin}
	if !ruleName.MatchString(raw.Name) {
		v.add(i, "name", "%q: a rule needs a name of letters, digits, '.', '_' and '-' (at most 64)", raw.Name)
	}
	r.Match = v.match(i, raw.Match)
	kinds := 0
	if raw.Public != nil {
		if !*raw.Public {
			v.add(i, "public", "public: false means nothing; remove it and say what the rule admits")
		}
		r.Public = *raw.Public
		kinds++
	}
	if raw.Session != nil {
		r.Session = v.session(i, raw.Session, r.Match.pattern)
		kinds++
	}
	if raw.M2M != nil {
		if len(raw.M2M.Scopes) == 0 || slices.Contains(raw.M2M.Scopes, "") {
			v.add(i, "m2m.scopes", "name at least one scope (a token must hold every one)")
		}
		r.M2M = &M2M{Scopes: raw.M2M.Scopes}
		kinds++
	}
	if kinds != 1 {
		v.add(i, "name", "rule %q needs exactly one of public: true, session: or m2m:", raw.Name)
	}
	if raw.RedirectToLogin != "" {
		u, err := url.Parse(raw.RedirectToLogin)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			v.add(i, "redirect_to_login", "%q is not an absolute http(s) URL", raw.RedirectToLogin)
		case raw.Session == nil:
			v.add(i, "redirect_to_login", "only a session rule sends browsers to a login page")
		}
	}
	if len(v.problems) > before {
		return nil
	}
	return r
}

func (v *validator) match(i int, raw rawMatch) Match {
	m := Match{PathPrefix: raw.PathPrefix, PathPattern: raw.PathPattern}
	for _, h := range raw.Hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if !hostName.MatchString(h) {
			v.add(i, "match.hosts", "%q is not a host name (no port; a wildcard is *.example.com)", h)
		}
		m.Hosts = append(m.Hosts, h)
	}
	for _, meth := range raw.Methods {
		if !httpToken.MatchString(meth) {
			v.add(i, "match.methods", "%q is not an HTTP method", meth)
		}
		m.Methods = append(m.Methods, strings.ToUpper(meth))
	}
	switch {
	case raw.PathPrefix != "" && raw.PathPattern != "":
		v.add(i, "match.path_pattern", "give path_prefix or path_pattern, not both")
	case raw.PathPrefix != "":
		if _, err := SplitPath(raw.PathPrefix); err != nil || raw.PathPrefix != strings.SplitN(raw.PathPrefix, "?", 2)[0] {
			v.add(i, "match.path_prefix", "%q must be a plain path starting with /", raw.PathPrefix)
		}
	case raw.PathPattern != "":
		segs, err := compilePattern(raw.PathPattern)
		if err != nil {
			v.add(i, "match.path_pattern", "%q: %v", raw.PathPattern, err)
		}
		m.pattern = segs
	}
	return m
}

func (v *validator) session(i int, raw *rawSession, pattern []segment) *Session {
	s := &Session{Kind: raw.Kind, Roles: raw.Roles, Factors: raw.Factors}
	switch raw.Kind {
	case KindMember, KindUser, KindAny:
	case "":
		v.add(i, "session.kind", "missing: member, user or any")
	default:
		v.add(i, "session.kind", "%q is not member, user or any", raw.Kind)
	}
	if slices.Contains(raw.Roles, "") {
		v.add(i, "session.roles", "a role cannot be empty")
	}
	if o := raw.OrganizationFrom; o != nil {
		switch {
		case (o.PathParam == "") == (o.Header == ""):
			v.add(i, "session.organization_from", "give exactly one of path_param or header")
		case raw.Kind != KindMember:
			v.add(i, "session.organization_from", "only member sessions belong to an organization (kind: member)")
		case o.PathParam != "" && !hasParam(pattern, o.PathParam):
			v.add(i, "session.organization_from.path_param", "{%s} is not a parameter of the rule's path_pattern", o.PathParam)
		case o.Header != "" && !headerName.MatchString(o.Header):
			v.add(i, "session.organization_from.header", "%q is not a lower-case header name", o.Header)
		}
		s.OrganizationFrom = &OrganizationFrom{PathParam: o.PathParam, Header: o.Header}
	}
	if p := raw.Permission; p != nil {
		switch {
		case p.Resource == "" || p.Action == "":
			v.add(i, "session.permission", "give both resource and action (e.g. {resource: invoices, action: write})")
		case raw.Kind != KindMember:
			v.add(i, "session.permission", "RBAC permissions are B2B member roles' (kind: member)")
		case raw.OrganizationFrom == nil:
			// A role grants its permissions in the member's own organization only.
			v.add(i, "session.permission", "a permission holds in one organization: set organization_from too")
		}
		s.Permission = &Permission{Resource: p.Resource, Action: p.Action}
	}
	if raw.MaxAge != "" {
		d, err := time.ParseDuration(raw.MaxAge)
		if err != nil || d <= 0 {
			v.add(i, "session.max_age", "%q is not a positive duration such as 10m", raw.MaxAge)
		}
		s.MaxAge = d
	}
	for _, f := range raw.Factors {
		typ, delivery, hasDelivery := strings.Cut(f, ":")
		if !slices.Contains(factorTypes, typ) || hasDelivery && !headerName.MatchString(strings.ReplaceAll(delivery, "_", "-")) {
			v.add(i, "session.factors", "%q is not a factor type (one of %s), optionally with :delivery_method", f, strings.Join(factorTypes, ", "))
		}
	}
	return s
}

func hasParam(pattern []segment, name string) bool {
	for _, s := range pattern {
		if s.param == name {
			return true
		}
	}
	return false
}
