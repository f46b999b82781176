package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/edge/rules"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

const rulesUsage = `usage:
  authsvc rules check FILE                       validate an edge rules file
  authsvc rules test FILE METHOD URL [HEADER...] show which rule a request matches, why, and the
                                                 decision for it without credentials
  URL is absolute (https://api.example.com/orgs/o1/x) or a path with a "Host: ..." HEADER;
  a HEADER is "Name: value".
`

// rulesCommand runs "authsvc rules ...": it returns the exit status (0 ok, 1 the file does not
// validate, 2 a usage error).
func rulesCommand(args []string, out, errOut io.Writer) int {
	if len(args) < 2 {
		_, _ = fmt.Fprint(errOut, rulesUsage)
		return 2
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			_, _ = fmt.Fprint(errOut, rulesUsage)
			return 2
		}
		set, err := rules.LoadFile(args[1])
		if err != nil {
			printProblems(errOut, err)
			return 1
		}
		_, _ = fmt.Fprintf(out, "%s: %d rules, valid\n", args[1], len(set.Rules()))
		return 0
	case "test":
		if len(args) < 4 {
			_, _ = fmt.Fprint(errOut, rulesUsage)
			return 2
		}
		return rulesTest(args[1], args[2], args[3], args[4:], out, errOut)
	default:
		_, _ = fmt.Fprint(errOut, rulesUsage)
		return 2
	}
}

func printProblems(w io.Writer, err error) {
	if re, ok := err.(*rules.Error); ok { //nolint:errorlint // LoadFile returns it unwrapped
		for _, p := range re.Problems {
			_, _ = fmt.Fprintln(w, (&rules.Error{File: re.File, Problems: []rules.Problem{p}}).Error())
		}
		return
	}
	_, _ = fmt.Fprintln(w, err)
}

func rulesTest(file, method, rawURL string, headers []string, out, errOut io.Writer) int {
	set, err := rules.LoadFile(file)
	if err != nil {
		printProblems(errOut, err)
		return 1
	}
	in := edge.Input{Method: strings.ToUpper(method), Scheme: "https"}
	hdr := map[string]string{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			_, _ = fmt.Fprintf(errOut, "header %q: expected \"Name: value\"\n", h)
			return 2
		}
		hdr[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.HasPrefix(rawURL, "http://") || strings.HasPrefix(rawURL, "https://") {
		u, err := url.Parse(rawURL)
		if err != nil {
			_, _ = fmt.Fprintf(errOut, "URL %q: %v\n", rawURL, err)
			return 2
		}
		in.Scheme, in.Host, in.Target = u.Scheme, u.Host, u.RequestURI()
	} else {
		in.Target = rawURL
	}
	if h, ok := hdr["host"]; ok {
		in.Host = h
	}
	in.Accept = hdr["accept"]
	in.Header = func(name string) string { return hdr[name] }

	path, err := rules.SplitPath(in.Target)
	if err != nil {
		_, _ = fmt.Fprintf(out, "%s %s%s: the path is ambiguous (dot segments or encoded slashes): denied 400 before any rule\n", in.Method, in.Host, in.Target)
		return 0
	}
	req := rules.Request{Method: in.Method, Host: in.Host, Path: path}
	_, _ = fmt.Fprintf(out, "request: %s host=%q path=%s\n", in.Method, in.Host, path)
	for _, line := range set.Explain(req) {
		_, _ = fmt.Fprintln(out, "  "+line)
	}
	if r, params := set.Find(req); r != nil {
		_, _ = fmt.Fprintf(out, "rule %q admits: %s\n", r.Name, describe(r, params))
	}

	// The anonymous decision is the engine's own: with no credential it never reaches a checker.
	engine, err := edge.NewEngine(edge.Config{Rules: set, M2M: offline{}})
	if err != nil {
		_, _ = fmt.Fprintln(errOut, err)
		return 1
	}
	d := engine.Decide(context.Background(), in)
	_, _ = fmt.Fprintf(out, "without credentials: %s\n", describeDecision(d))
	if len(hdr["authorization"]) > 0 || len(hdr["cookie"]) > 0 {
		c := access.ReadCredential(nonEmpty(hdr["authorization"]), "", "")
		_, _ = fmt.Fprintf(out, "the credentials given (%s) are verified only by a running authsvc (this tool has no keys)\n", c.Kind)
	}
	return 0
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

func describe(r *rules.Rule, params rules.Params) string {
	switch {
	case r.Public:
		return "anyone (public)"
	case r.M2M != nil:
		return fmt.Sprintf("M2M tokens with scopes %v", r.M2M.Scopes)
	}
	s := r.Session
	parts := []string{s.Kind + " sessions"}
	if len(s.Roles) > 0 {
		parts = append(parts, fmt.Sprintf("with roles %v", s.Roles))
	}
	if o := s.OrganizationFrom; o != nil {
		if o.PathParam != "" {
			parts = append(parts, fmt.Sprintf("of the organization in path parameter %s (%q here)", o.PathParam, params[o.PathParam]))
		} else {
			parts = append(parts, "of the organization in header "+o.Header)
		}
	}
	if p := s.Permission; p != nil {
		parts = append(parts, fmt.Sprintf("whose roles grant %q on %q by the RBAC policy (else denied 403 %s)", p.Action, p.Resource, edge.ReasonMissingPermission))
	}
	if s.MaxAge > 0 {
		parts = append(parts, fmt.Sprintf("authenticated within %s", s.MaxAge))
	}
	if len(s.Factors) > 0 {
		parts = append(parts, fmt.Sprintf("with factors %v", s.Factors))
	}
	if r.RedirectToLogin != "" {
		parts = append(parts, "browsers sent to "+r.RedirectToLogin)
	}
	return strings.Join(parts, ", ")
}

func describeDecision(d edge.Decision) string {
	if d.Allowed {
		return fmt.Sprintf("allowed (200, kind %s)", d.Kind)
	}
	s := fmt.Sprintf("denied %d %s (%s)", d.Status, d.Code, d.Reason)
	if d.Location != "" {
		s += " to " + d.Location
	}
	return s
}

// offline is the M2M checker of the rules test tool, which has no keys: never reached for a
// request without credentials.
type offline struct{}

func (offline) CheckM2M(context.Context, string, []string) (*verify.M2MClaims, error) {
	return nil, verify.ErrKeysNotLoaded
}
