package stytchclient

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
)

// ProjectType is the kind of Stytch project a Client talks to. A Stytch project is either B2B
// (organizations, members, member sessions) or consumer (users, user sessions); each has its own
// project ID, secret and signing keys. One Client talks to one project: a deployment that fronts
// both kinds builds two clients, one per credential set.
type ProjectType string

const (
	// ProjectB2B is a B2B project: the /v1/b2b/... endpoints. It is the default (Config.ProjectType
	// empty), as authsvc fronted only B2B projects before consumer support.
	ProjectB2B ProjectType = "b2b"
	// ProjectConsumer is a consumer project: /v1/users, /v1/magic_links, /v1/otps, /v1/sessions,
	// /v1/passwords, /v1/totps, /v1/crypto_wallets.
	ProjectConsumer ProjectType = "consumer"
)

func (p ProjectType) String() string { return string(p) }

// resolveProjectType maps Config.ProjectType to a known type; empty means ProjectB2B.
func resolveProjectType(p ProjectType) (ProjectType, error) {
	switch p {
	case "", ProjectB2B:
		return ProjectB2B, nil
	case ProjectConsumer:
		return ProjectConsumer, nil
	}
	return "", fmt.Errorf("stytchclient: Config.ProjectType %q is neither %q nor %q", string(p), ProjectB2B, ProjectConsumer)
}

// consumerPrefixes are the path prefixes of consumer-only endpoints. The consumer JWKS path is
// not among them: a B2B client may fetch it too (FetchConsumerJWKS).
var consumerPrefixes = []string{"/v1/users", "/v1/magic_links", "/v1/otps", "/v1/sessions", "/v1/passwords", "/v1/totps", "/v1/crypto_wallets", "/v1/webauthn", "/v1/oauth"}

// endpointProject returns the project type an endpoint template belongs to, or "" for endpoints
// both kinds serve (M2M, the token endpoint, the consumer JWKS).
func endpointProject(template string) ProjectType {
	if strings.HasPrefix(template, "/v1/b2b/") {
		return ProjectB2B
	}
	if strings.HasPrefix(template, "/v1/sessions/jwks/") {
		return ""
	}
	for _, p := range consumerPrefixes {
		if strings.HasPrefix(template, p) && (len(template) == len(p) || template[len(p)] == '/') {
			return ProjectConsumer
		}
	}
	return ""
}

// ProjectTypeError reports a call to an endpoint of the other project type: a B2B method on a
// consumer client or the reverse. It is refused before any request (Stytch would answer it with
// 400 invalid_b2b_endpoint or invalid_consumer_endpoint), and it always means
// authsvc is wired wrongly, never that the caller erred.
type ProjectTypeError struct {
	// Endpoint is the endpoint template, e.g. "POST /v1/b2b/sessions/authenticate".
	Endpoint string
	// Endpoint's project type and the client's.
	EndpointType, ClientType ProjectType
}

func (e *ProjectTypeError) Error() string {
	return fmt.Sprintf("stytch: %s: a %s endpoint called on a %s project client; no request was made",
		e.Endpoint, e.EndpointType, e.ClientType)
}

// GRPCStatus: authsvc called the wrong kind of project; the caller cannot fix that.
func (e *ProjectTypeError) GRPCStatus() *status.Status {
	return rpcerr.New(codes.Internal, "stytch_wrong_project_type", codeMessages[codes.Internal]).GRPCStatus()
}

// checkProject refuses an endpoint of the other project type.
func (c *Client) checkProject(endpoint, template string) error {
	if p := endpointProject(template); p != "" && p != c.projectType {
		return &ProjectTypeError{Endpoint: endpoint, EndpointType: p, ClientType: c.projectType}
	}
	return nil
}
