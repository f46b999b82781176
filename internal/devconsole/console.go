// Package devconsole is the dev console: a few static pages at /dev/ on the REST port that drive
// every login flow against dev mode's embedded emulator, show the outbox, inspect the session, mint
// M2M tokens and show the per-RPC access table.
//
// Where it is served: on the REST port, beside the gateway, so the pages' API calls are same-origin
// and the session cookies the login RPCs set belong to the console (cookie mode works, and the CSRF
// check sees same-origin requests). Only internal/app's dev-mode wiring mounts Routes, next to
// /dev/outbox and /dev/m2m/clients: a server with a Stytch project configured has no /dev/ route,
// and dev mode listens on loopback only (internal/config's listen.go).
//
// The pages are plain HTML (static/*.html) with one script, static/console.js, bundled from
// src/console.ts and the TypeScript client (clients/typescript) by build.mjs during `make generate`
// and committed; `make checkgenerate` fails when it is stale.
package devconsole

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/authsvc/authsvc/internal/policy"
)

//go:embed static
var static embed.FS

// CSP is the pages' Content-Security-Policy: scripts, styles and API calls from this origin only,
// nothing inline, images from this origin or data: URLs (the TOTP QR code), no framing, no forms
// to elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// LandingPath is the console page where redirect flows land (magic links opened from the outbox,
// SSO): it redeems ?stytch_token_type=&token= once. Dev mode allows it as a redirect URL.
const LandingPath = "/dev/authenticate.html"

// contentTypes are the types of the files in static/, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// Routes returns the console's REST-port routes (ServeMux patterns): GET /dev/ (the index page),
// GET /dev/<file> for each file of static/, and GET /dev/access.md, the access table rendered from
// the policy options of the registered RPCs (internal/policy). Each path is listed: a catch-all
// /dev/ pattern would collide with the other dev routes' patterns.
func Routes() (map[string]http.Handler, error) {
	rpcs, err := policy.Load(nil)
	if err != nil {
		return nil, fmt.Errorf("dev console: %w", err)
	}
	access := policy.Markdown(rpcs)
	routes := map[string]http.Handler{
		"GET /dev/access.md": page("text/markdown; charset=utf-8", access),
	}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		return nil, fmt.Errorf("dev console: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return nil, fmt.Errorf("dev console: no content type for static/%s", name)
		}
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			return nil, fmt.Errorf("dev console: %w", err)
		}
		routes["GET /dev/"+name] = page(ct, b)
		if name == "index.html" {
			routes["GET /dev/{$}"] = page(ct, b)
		}
	}
	return routes, nil
}

// Pages lists the console's HTML pages as paths (for tests and the README).
func Pages() []string {
	entries, _ := fs.ReadDir(static, "static")
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".html") {
			out = append(out, "/dev/"+e.Name())
		}
	}
	return out
}

// page serves body with its content type and the console's security headers. They replace the
// API's (internal/gateway's SecurityHeaders, whose CSP allows nothing, as a JSON API needs).
func page(contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// The landing page's address carries a single-use token until its script drops it.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}
