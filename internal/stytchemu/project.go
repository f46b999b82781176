package stytchemu

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ProjectType is the kind of Stytch project an Emulator emulates. A Stytch
// project is either B2B or consumer, never both; M2M exists in both.
type ProjectType string

// Project types.
const (
	ProjectB2B      ProjectType = "b2b"
	ProjectConsumer ProjectType = "consumer"
)

// WithProjectType sets the project type (default ProjectB2B). A consumer
// project serves /v1/users, /v1/magic_links, /v1/otps and /v1/sessions; a
// B2B project serves /v1/b2b/...; both serve M2M and the consumer JWKS path.
func WithProjectType(t ProjectType) Option { return func(c *config) { c.projectType = t } }

// WithConsumer is WithProjectType(ProjectConsumer).
func WithConsumer() Option { return WithProjectType(ProjectConsumer) }

// ProjectType returns the emulated project's type.
func (e *Emulator) ProjectType() ProjectType { return e.projectType }

// routeKind says which project type serves a route.
type routeKind int

const (
	kindAny routeKind = iota
	kindB2B
	kindConsumer
)

// kindOf classifies an endpoint template by its path: /v1/b2b/ is B2B, M2M
// and the public token endpoint are common, and so is the consumer JWKS path
// (a B2B emulator has always served its keys there too); every other /v1/
// path is consumer.
func kindOf(pattern string) routeKind {
	_, path, _ := strings.Cut(pattern, " ")
	switch {
	case strings.HasPrefix(path, "/v1/b2b/"):
		return kindB2B
	case strings.HasPrefix(path, "/v1/m2m/"), strings.HasPrefix(path, "/v1/public/"), strings.HasPrefix(path, "/v1/connected_apps/"),
		path == "/v1/sessions/jwks/{project_id}":
		return kindAny
	default:
		return kindConsumer
	}
}

// serves reports whether this project type answers routes of kind k.
func (e *Emulator) serves(k routeKind) bool {
	switch k {
	case kindB2B:
		return e.projectType != ProjectConsumer
	case kindConsumer:
		return e.projectType == ProjectConsumer
	default:
		return true
	}
}

// wrongProjectType is the answer to a route of the other project type, as
// Stytch gives it: 400 invalid_consumer_endpoint for a consumer route called
// with a B2B project's credentials, 400 invalid_b2b_endpoint for the reverse.
func (e *Emulator) wrongProjectType() *apiError {
	if e.projectType == ProjectConsumer {
		return newErr(http.StatusBadRequest, errInvalidB2BEndpoint,
			"This endpoint is only available to B2B projects; this is a consumer project.")
	}
	return newErr(http.StatusBadRequest, errInvalidConsumerEnd,
		"This endpoint is only available to consumer projects; this is a B2B project.")
}

// Multi serves several emulated projects (typically one B2B and one consumer
// project) on one address. A request goes to the project named by its Basic
// auth user (the project ID); without Basic auth, to the project named by the
// {project_id} segment of a JWKS or M2M token path, or by the project_id query
// parameter of an /emulator/ control call; otherwise to the first project,
// which answers as Stytch answers unknown credentials.
type Multi struct {
	projects []*Emulator
}

// NewMulti builds a handler over projects; the first is the default. Project
// IDs must be distinct.
func NewMulti(projects ...*Emulator) (*Multi, error) {
	if len(projects) == 0 {
		return nil, errors.New("stytchemu: NewMulti needs at least one project")
	}
	seen := map[string]bool{}
	for _, p := range projects {
		if seen[p.projectID] {
			return nil, fmt.Errorf("stytchemu: project ID %s is used twice", p.projectID)
		}
		seen[p.projectID] = true
	}
	return &Multi{projects: projects}, nil
}

// Projects returns the served projects, the default first.
func (m *Multi) Projects() []*Emulator { return append([]*Emulator(nil), m.projects...) }

// Project returns the project with the given ID, or nil.
func (m *Multi) Project(id string) *Emulator {
	for _, p := range m.projects {
		if p.projectID == id {
			return p
		}
	}
	return nil
}

// ServeHTTP dispatches to one project.
func (m *Multi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.pick(r).ServeHTTP(w, r)
}

func (m *Multi) pick(r *http.Request) *Emulator {
	if user, _, ok := r.BasicAuth(); ok {
		if p := m.Project(user); p != nil {
			return p
		}
		return m.projects[0]
	}
	if strings.HasPrefix(r.URL.Path, "/emulator/") {
		if p := m.Project(r.URL.Query().Get("project_id")); p != nil {
			return p
		}
		return m.projects[0]
	}
	if strings.HasPrefix(r.URL.Path, "/v1/public/oauth/") || strings.HasPrefix(r.URL.Path, "/v1/b2b/public/oauth/") { // a browser: the public token names the project
		for _, p := range m.projects {
			if p.PublicToken() == r.URL.Query().Get("public_token") {
				return p
			}
		}
	}
	if id := pathProjectID(r.URL.Path); id != "" {
		if p := m.Project(id); p != nil {
			return p
		}
	}
	return m.projects[0]
}

// pathProjectID returns the {project_id} of the JWKS and token paths.
func pathProjectID(p string) string {
	for _, prefix := range []string{"/v1/sessions/jwks/", "/v1/b2b/sessions/jwks/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && !strings.Contains(rest, "/") {
			return rest
		}
	}
	if rest, ok := strings.CutPrefix(p, "/v1/public/"); ok {
		if id, tail, ok := strings.Cut(rest, "/"); ok && tail == "oauth2/token" {
			return id
		}
	}
	return ""
}
