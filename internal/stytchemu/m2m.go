package stytchemu

import (
	"crypto/subtle"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

func m2mNotFound() *apiError {
	return newErr(http.StatusNotFound, errM2MClientNotFound, "M2M client could not be found.")
}

func validScopes(scopes []string) *apiError {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return badRequest("Scopes must be non-empty and contain no whitespace.")
		}
	}
	return nil
}

// createM2MClient creates a client; caller holds e.mu.
func (e *Emulator) createM2MClient(id, secret, name, desc string, scopes []string, md map[string]any) (*m2mClient, *apiError) {
	if scopes == nil {
		return nil, badRequest("scopes is required.")
	}
	if err := validScopes(scopes); err != nil {
		return nil, err
	}
	if id == "" {
		id = "m2m-client-test-" + newUUID()
	}
	if _, dup := e.st.m2m[id]; dup {
		return nil, badRequest("An M2M client with this client_id already exists.").withType(errDuplicateClientID)
	}
	if secret == "" {
		secret = randToken(36)
	} else if len(secret) < 8 {
		return nil, badRequest("client_secret must be at least 8 characters long.")
	}
	c := &m2mClient{
		ClientID: id, ClientName: name, ClientDescription: desc,
		Status: statusActive, Scopes: slices.Clone(scopes), TrustedMetadata: md, secret: secret,
	}
	e.st.m2m[id] = c
	e.st.m2mOrder = append(e.st.m2mOrder, id)
	return c, nil
}

func (a *apiError) withType(t string) *apiError { a.typ = t; return a }

func (e *Emulator) m2mCreate(rq *request) (any, error) {
	var in struct {
		Scopes            []string       `json:"scopes"`
		ClientID          string         `json:"client_id"`
		ClientSecret      string         `json:"client_secret"`
		ClientName        string         `json:"client_name"`
		ClientDescription string         `json:"client_description"`
		TrustedMetadata   map[string]any `json:"trusted_metadata"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	c, err := e.createM2MClient(in.ClientID, in.ClientSecret, in.ClientName, in.ClientDescription, in.Scopes, in.TrustedMetadata)
	if err != nil {
		return nil, err
	}
	w := c.wire()
	w["client_secret"] = c.secret
	return obj{"m2m_client": w}, nil
}

func (e *Emulator) m2mByPath(rq *request) (*m2mClient, *apiError) {
	c, ok := byID(e.st.m2m, rq.r.PathValue("client_id"))
	if !ok {
		return nil, m2mNotFound()
	}
	return c, nil
}

func (e *Emulator) m2mGet(rq *request) (any, error) {
	c, err := e.m2mByPath(rq)
	if err != nil {
		return nil, err
	}
	return obj{"m2m_client": c.wire()}, nil
}

func (e *Emulator) m2mUpdate(rq *request) (any, error) {
	c, aerr := e.m2mByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		ClientName        *string        `json:"client_name"`
		ClientDescription *string        `json:"client_description"`
		Status            *string        `json:"status"`
		Scopes            []string       `json:"scopes"`
		TrustedMetadata   map[string]any `json:"trusted_metadata"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Status != nil && *in.Status != statusActive && *in.Status != statusInactive {
		return nil, badRequest("status must be active or inactive.")
	}
	if in.Scopes != nil {
		if err := validScopes(in.Scopes); err != nil {
			return nil, err
		}
		c.Scopes = slices.Clone(in.Scopes)
	}
	if in.ClientName != nil {
		c.ClientName = *in.ClientName
	}
	if in.ClientDescription != nil {
		c.ClientDescription = *in.ClientDescription
	}
	if in.Status != nil {
		c.Status = *in.Status
	}
	if in.TrustedMetadata != nil {
		c.TrustedMetadata = in.TrustedMetadata
	}
	return obj{"m2m_client": c.wire()}, nil
}

func (e *Emulator) m2mDelete(rq *request) (any, error) {
	c, err := e.m2mByPath(rq)
	if err != nil {
		return nil, err
	}
	delete(e.st.m2m, c.ClientID)
	rq.event("m2m_client", "DELETE", c.ClientID, obj{"client_id": c.ClientID})
	e.st.m2mOrder = slices.DeleteFunc(e.st.m2mOrder, func(id string) bool { return id == c.ClientID })
	return obj{"client_id": c.ClientID}, nil
}

func (e *Emulator) m2mRotateStart(rq *request) (any, error) {
	c, err := e.m2mByPath(rq)
	if err != nil {
		return nil, err
	}
	// Starting again replaces a pending next secret, as a lost
	// next_client_secret can only be recovered by a new rotation.
	c.nextSecret = randToken(36)
	w := c.wire()
	w["next_client_secret"] = c.nextSecret
	return obj{"m2m_client": w}, nil
}

func (e *Emulator) m2mRotate(rq *request) (any, error) {
	c, err := e.m2mByPath(rq)
	if err != nil {
		return nil, err
	}
	if c.nextSecret == "" {
		return nil, badRequest("No secret rotation is in progress for this client.").withType(errNoRotationInProgress)
	}
	c.secret, c.nextSecret = c.nextSecret, ""
	return obj{"m2m_client": c.wire()}, nil
}

func (e *Emulator) m2mRotateCancel(rq *request) (any, error) {
	c, err := e.m2mByPath(rq)
	if err != nil {
		return nil, err
	}
	if c.nextSecret == "" {
		return nil, badRequest("No secret rotation is in progress for this client.").withType(errNoRotationInProgress)
	}
	c.nextSecret = ""
	return obj{"m2m_client": c.wire()}, nil
}

func (e *Emulator) m2mSearch(rq *request) (any, error) {
	var in searchRequest
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	match, aerr := compileQuery(in.Query, m2mFilters)
	if aerr != nil {
		return nil, aerr
	}
	var hits []*m2mClient
	for _, id := range e.st.m2mOrder {
		c := e.st.m2m[id]
		if match(c) {
			hits = append(hits, c)
		}
	}
	page, meta, aerr := paginate(hits, in.Cursor, in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]obj, 0, len(page))
	for _, c := range page {
		out = append(out, c.wire())
	}
	return obj{"m2m_clients": out, "results_metadata": meta}, nil
}

// m2mFilters are the documented M2M search filters: client_id (list),
// client_name (exact; a string or a list), scopes (any of the listed).
var m2mFilters = map[string]filterFunc{
	"client_id": func(v json.RawMessage) (func(any) bool, error) {
		ids, err := stringList(v)
		return func(x any) bool { return slices.Contains(ids, x.(*m2mClient).ClientID) }, err
	},
	"client_name": func(v json.RawMessage) (func(any) bool, error) {
		names, err := stringList(v)
		return func(x any) bool { return slices.Contains(names, x.(*m2mClient).ClientName) }, err
	},
	"scopes": func(v json.RawMessage) (func(any) bool, error) {
		scopes, err := stringList(v)
		return func(x any) bool {
			return slices.ContainsFunc(x.(*m2mClient).Scopes, func(s string) bool { return slices.Contains(scopes, s) })
		}, err
	},
}

// m2mToken is the OAuth2 client-credentials token endpoint. It takes no
// project Basic auth; client credentials come in the body or as Basic auth.
func (e *Emulator) m2mToken(rq *request) (any, error) {
	if rq.r.PathValue("project_id") != e.projectID {
		return nil, &oauthError{status: http.StatusNotFound, code: "invalid_request", description: "Unknown project."}
	}
	in, oerr := parseTokenRequest(rq)
	if oerr != nil {
		return nil, oerr
	}
	switch in.GrantType {
	case "client_credentials":
	case "authorization_code":
		return e.authorizationCodeGrant(rq, in)
	case "refresh_token":
		return e.refreshTokenGrant(rq, in)
	default:
		return nil, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "grant_type must be client_credentials, authorization_code or refresh_token."}
	}
	if in.ClientID == "" || in.ClientSecret == "" {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "client_id and client_secret are required."}
	}
	c, ok := e.st.m2m[in.ClientID]
	badClient := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed."}
	if !ok || c.Status != statusActive {
		return nil, badClient
	}
	cur := subtle.ConstantTimeCompare([]byte(in.ClientSecret), []byte(c.secret)) == 1
	next := c.nextSecret != "" && subtle.ConstantTimeCompare([]byte(in.ClientSecret), []byte(c.nextSecret)) == 1
	if !cur && !next {
		return nil, badClient
	}
	scopes := c.Scopes
	if in.Scope != "" {
		scopes = strings.Fields(in.Scope)
		for _, s := range scopes {
			if !slices.Contains(c.Scopes, s) {
				return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "A requested scope is not granted to this client."}
			}
		}
	}
	claims := jwt.MapClaims{}
	maps.Copy(claims, c.customClaims)
	claims["iss"] = "stytch.com/" + e.projectID
	claims["aud"] = []string{e.projectID}
	claims["sub"] = c.ClientID
	claims["scope"] = strings.Join(scopes, " ")
	claims["iat"] = rq.now.Unix()
	claims["nbf"] = rq.now.Unix()
	claims["exp"] = rq.now.Add(m2mTokenLifetime).Unix()
	tok, err := e.keys.sign(claims)
	if err != nil {
		return nil, err
	}
	return rawResponse{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int(m2mTokenLifetime.Seconds()),
	}, nil
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope"`
	// authorization_code and refresh_token grants (Connected Apps, connected_apps_idp.go)
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	CodeVerifier string `json:"code_verifier"`
	RefreshToken string `json:"refresh_token"`
}

// parseTokenRequest accepts a form (RFC 6749) or JSON body; client
// credentials may also come as HTTP Basic auth.
func parseTokenRequest(rq *request) (tokenRequest, *oauthError) {
	var in tokenRequest
	ct, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if ct == "application/json" {
		if len(rq.body) > 0 {
			if err := json.Unmarshal(rq.body, &in); err != nil {
				return in, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Body is not valid JSON."}
			}
		}
	} else {
		vals, err := url.ParseQuery(string(rq.body))
		if err != nil {
			return in, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Body is not a valid form."}
		}
		in = tokenRequest{
			GrantType: vals.Get("grant_type"), ClientID: vals.Get("client_id"),
			ClientSecret: vals.Get("client_secret"), Scope: vals.Get("scope"),
			Code: vals.Get("code"), RedirectURI: vals.Get("redirect_uri"),
			CodeVerifier: vals.Get("code_verifier"), RefreshToken: vals.Get("refresh_token"),
		}
	}
	if u, p, ok := rq.r.BasicAuth(); ok && in.ClientID == "" && in.ClientSecret == "" {
		in.ClientID, in.ClientSecret = u, p
	}
	return in, nil
}
