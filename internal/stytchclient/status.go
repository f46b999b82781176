package stytchclient

import (
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
)

// Stytch errors become gRPC statuses here, once, from Stytch's error_type: every handler passes a
// Stytch error on as it is (it implements GRPCStatus), so no other package maps Stytch errors.
//
// The status carries google.rpc.ErrorInfo{reason: error_type, domain: "stytch.com", metadata:
// {stytch_request_id}}, a message of authsvc's own (Stytch's error_message may repeat the email
// address or other input, and tells anonymous callers whether an account exists), and RetryInfo
// when retrying can help (429, 5xx, transport failures).

// DomainStytch is the ErrorInfo domain of reasons that are Stytch's error types, unchanged.
const DomainStytch = "stytch.com"

// MetadataRequestID is the ErrorInfo metadata key holding Stytch's request ID.
const MetadataRequestID = "stytch_request_id"

// defaultRetryDelay is the RetryInfo hint when Stytch sends no Retry-After.
const defaultRetryDelay = time.Second

// errorType is what authsvc knows about one of Stytch's error types: the HTTP status Stytch
// answers it with, and a message that never contains user input.
type errorType struct {
	status  int
	message string
}

// errorTypes are the Stytch error types authsvc can meet, B2B and consumer (Stytch's public error
// reference, the OAuth2 errors of the M2M token endpoint, and those the embedded emulator produces).
// A type missing here still maps by its HTTP status, with a generic message. Messages name no
// project type where the error type is shared ("an account", "the session").
var errorTypes = map[string]errorType{
	"active_totp_exists":                     {http.StatusBadRequest, "an active TOTP already exists; delete it before enrolling another"},
	"attribute_mismatch":                     {http.StatusUnauthorized, "the session does not match the request"},
	"bad_request":                            {http.StatusBadRequest, "the request was rejected as invalid"},
	"biometric_registration_not_found":       {http.StatusNotFound, "biometric registration not found"},
	"breached_password":                      {http.StatusBadRequest, "the password appears in a data breach; choose another"},
	"captcha_failed":                         {http.StatusTooManyRequests, "too many requests to Stytch; retry later"},
	"crypto_wallet_not_found":                {http.StatusNotFound, "crypto wallet not found"},
	"duplicate_email":                        {http.StatusBadRequest, "an account with this email address already exists"},
	"duplicate_phone_number":                 {http.StatusBadRequest, "an account with this phone number already exists"},
	"duplicate_user_external_id":             {http.StatusBadRequest, "another account already has this external ID"},
	"email_invites_not_allowed":              {http.StatusForbidden, "the organization does not allow this email invite"},
	"email_not_found":                        {http.StatusNotFound, "email address not found"},
	"idp_access_token_not_found":             {http.StatusNotFound, "the access token is invalid, expired or already used"},
	"intermediate_session_not_found":         {http.StatusNotFound, "the intermediate session is invalid or expired"},
	"internal_server_error":                  {http.StatusInternalServerError, "the identity provider is unavailable; retry later"},
	"invalid_b2b_endpoint":                   {http.StatusBadRequest, "internal error"},
	"invalid_client":                         {http.StatusUnauthorized, "invalid client credentials"},
	"invalid_consumer_endpoint":              {http.StatusBadRequest, "internal error"},
	"invalid_email":                          {http.StatusBadRequest, "the email address is invalid"},
	"invalid_oauth_provider":                 {http.StatusBadRequest, "the OAuth provider is not supported"},
	"invalid_expiration":                     {http.StatusBadRequest, "the expiration is out of range"},
	"invalid_migration_token":                {http.StatusUnauthorized, "the identity provider did not accept the session token"},
	"invalid_phone_number":                   {http.StatusBadRequest, "the phone number is invalid"},
	"invalid_public_key_credential":          {http.StatusBadRequest, "the WebAuthn credential is malformed"},
	"invalid_scope":                          {http.StatusBadRequest, "a requested scope is not granted to this client"},
	"invalid_session_jwt":                    {http.StatusUnauthorized, "the session is invalid or expired"},
	"invalid_totp_code":                      {http.StatusBadRequest, "the TOTP code must be 6 digits"},
	"invalid_totp_secret":                    {http.StatusBadRequest, "the TOTP secret is not a base32 secret"},
	"invite_not_found":                       {http.StatusNotFound, "there is no pending invite for this email address"},
	"m2m_authorization_error":                {http.StatusForbidden, "the client is not authorized to perform this action"},
	"m2m_client_id_already_used":             {http.StatusBadRequest, "an M2M client with this ID already exists"},
	"m2m_client_not_found":                   {http.StatusNotFound, "M2M client not found"},
	"m2m_client_secret_rotation_not_started": {http.StatusBadRequest, "no secret rotation is in progress for this M2M client"},
	"magic_link_not_found":                   {http.StatusNotFound, "the magic link is invalid, expired or already used"},
	"member_already_active":                  {http.StatusBadRequest, "the member is already active"},
	"member_not_found":                       {http.StatusNotFound, "member not found"},
	"member_password_not_found":              {http.StatusNotFound, "member password not found"},
	"member_phone_number_already_set":        {http.StatusBadRequest, "the member already has an MFA phone number; delete it first"},
	"member_phone_number_not_found":          {http.StatusNotFound, "the member has no MFA phone number"},
	"oauth_token_not_found":                  {http.StatusNotFound, "the OAuth token is invalid, expired or already used"},
	"oauth_user_registration_not_found":      {http.StatusNotFound, "OAuth registration not found"},
	"organization_not_found":                 {http.StatusNotFound, "organization not found"},
	"organization_slug_already_used":         {http.StatusBadRequest, "the organization slug is already in use"},
	"otp_code_not_found":                     {http.StatusNotFound, "the code is invalid, expired or already used"},
	"password_not_found":                     {http.StatusNotFound, "password not found"},
	"phone_number_not_found":                 {http.StatusNotFound, "phone number not found"},
	"pkce_mismatch":                          {http.StatusBadRequest, "the PKCE code verifier does not match"},
	"reset_password":                         {http.StatusBadRequest, "the password must be reset before it can be used"},
	"route_not_found":                        {http.StatusNotFound, "internal error"},
	"scim_connection_already_exists":         {http.StatusBadRequest, "the organization already has a SCIM connection"},
	"scim_connection_not_found":              {http.StatusNotFound, "SCIM connection not found"},
	"scim_token_rotation_not_started":        {http.StatusBadRequest, "no SCIM token rotation is in progress"},
	"session_authorization_error":            {http.StatusForbidden, "the session is not authorized to perform this action"},
	"session_authorization_tenancy_error":    {http.StatusForbidden, "the member session belongs to another organization"},
	"session_not_found":                      {http.StatusNotFound, "the session is invalid or expired"},
	"session_too_old_to_reset_password":      {http.StatusBadRequest, "the session must have authenticated by email or password in the last 5 minutes"},
	"too_few_tokens_authenticated":           {http.StatusTooManyRequests, "too many requests to Stytch; retry later"},
	"too_many_factors":                       {http.StatusBadRequest, "the user has more than one factor; only a user with exactly one can exchange it"},
	"too_many_requests":                      {http.StatusTooManyRequests, "too many requests to Stytch; retry later"},
	"too_many_session_arguments":             {http.StatusBadRequest, "pass either a session token or a session JWT, not both"},
	"too_many_user_identifiers":              {http.StatusBadRequest, "name the user by exactly one of a user ID, a session token or a session JWT"},
	"totp_code_already_authenticated":        {http.StatusUnauthorized, "this TOTP code has already been used; wait for the next one"},
	"totp_not_found":                         {http.StatusNotFound, "TOTP registration not found"},
	"unable_to_auth_magic_link":              {http.StatusUnauthorized, "the magic link is invalid, expired or already used"},
	"unable_to_auth_oauth_token":             {http.StatusUnauthorized, "the OAuth token is invalid, expired or already used"},
	"unable_to_auth_otp_code":                {http.StatusUnauthorized, "the code is invalid, expired or already used"},
	"unable_to_authenticate_recovery_code":   {http.StatusUnauthorized, "the recovery code is incorrect or already used"},
	"unable_to_authenticate_totp":            {http.StatusUnauthorized, "the TOTP code is incorrect"},
	"unable_to_auth_webauthn_registration":   {http.StatusUnauthorized, "the WebAuthn credential could not be verified"},
	"unauthorized_credentials":               {http.StatusUnauthorized, "internal error"},
	"user_already_active":                    {http.StatusBadRequest, "the user is already active"},
	"user_not_found":                         {http.StatusNotFound, "user not found"},
	"weak_password":                          {http.StatusBadRequest, "the password is too weak"},
	"webauthn_registration_not_found":        {http.StatusNotFound, "WebAuthn registration not found"},

	// Crypto wallets (consumer), apart so that their long names do not realign the table above.
	"crypto_wallet_type_incompatible_with_siwe": {http.StatusBadRequest, "Sign-In with Ethereum parameters are for Ethereum wallets only"},
	"duplicate_wallet_address":                  {http.StatusBadRequest, "the crypto wallet belongs to another account"},
	"invalid_ethereum_address":                  {http.StatusBadRequest, "the Ethereum address is invalid"},
	"invalid_signature":                         {http.StatusBadRequest, "the signature is malformed"},
	"invalid_siwe_chain_id":                     {http.StatusBadRequest, "the SIWE chain ID is invalid"},
	"invalid_siwe_domain":                       {http.StatusBadRequest, "the SIWE domain is invalid"},
	"invalid_siwe_message_request_id":           {http.StatusBadRequest, "the SIWE request ID is invalid"},
	"invalid_siwe_resource":                     {http.StatusBadRequest, "a SIWE resource is invalid"},
	"invalid_siwe_statement":                    {http.StatusBadRequest, "the SIWE statement is invalid"},
	"invalid_siwe_uri":                          {http.StatusBadRequest, "the SIWE URI is invalid"},
	"invalid_solana_address":                    {http.StatusBadRequest, "the Solana address is invalid"},
	"invalid_wallet_type":                       {http.StatusBadRequest, "the crypto wallet type is invalid"},
	"siwe_message_not_valid_yet":                {http.StatusBadRequest, "the SIWE message is not valid yet"},
	"unable_to_authenticate_crypto_wallet":      {http.StatusUnauthorized, "the crypto wallet signature could not be verified"},
}

// internalTypes are error types that mean authsvc itself is wrong, whatever their HTTP status:
// Stytch refused authsvc's own project credentials, or has no such route. The caller cannot fix
// that, so they are INTERNAL (and logged at error level).
var internalTypes = map[string]bool{
	"unauthorized_credentials": true, "route_not_found": true,
	// A method of the other project type: the client refuses it before sending (project.go).
	"invalid_b2b_endpoint": true, "invalid_consumer_endpoint": true,
}

// codeMessages are the messages of statuses whose Stytch error type is unknown.
var codeMessages = map[codes.Code]string{
	codes.InvalidArgument:   "the request was rejected as invalid",
	codes.Unauthenticated:   "not authenticated",
	codes.PermissionDenied:  "permission denied",
	codes.NotFound:          "not found",
	codes.AlreadyExists:     "already exists",
	codes.ResourceExhausted: "too many requests to Stytch; retry later",
	codes.Unavailable:       "the identity provider is unavailable; retry later",
	codes.Internal:          "internal error",
}

// CodeForHTTPStatus maps a Stytch HTTP status to a gRPC code: 400 and 422 INVALID_ARGUMENT, 401
// UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ALREADY_EXISTS, 429
// RESOURCE_EXHAUSTED, 408 and 5xx UNAVAILABLE; any other status means authsvc and Stytch disagree
// about the API: INTERNAL.
func CodeForHTTPStatus(s int) codes.Code {
	switch {
	case s == http.StatusBadRequest, s == http.StatusUnprocessableEntity:
		return codes.InvalidArgument
	case s == http.StatusUnauthorized:
		return codes.Unauthenticated
	case s == http.StatusForbidden:
		return codes.PermissionDenied
	case s == http.StatusNotFound:
		return codes.NotFound
	case s == http.StatusConflict:
		return codes.AlreadyExists
	case s == http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case s == http.StatusRequestTimeout, s >= 500:
		return codes.Unavailable
	default:
		return codes.Internal
	}
}

// Code is the gRPC code of e: by its error type where Stytch sent one, else by its HTTP status.
func (e *Error) Code() codes.Code {
	if e.wrongPassword() {
		return codes.Unauthenticated
	}
	if internalTypes[e.ErrorType] {
		return codes.Internal
	}
	return CodeForHTTPStatus(e.StatusCode)
}

// GRPCStatus is the status a caller of authsvc gets for this Stytch error.
func (e *Error) GRPCStatus() *status.Status {
	return e.apiError().GRPCStatus()
}

// wrongPassword reports an end user's wrong password (see Error.EndUserCredentials).
func (e *Error) wrongPassword() bool {
	return e.EndUserCredentials && e.StatusCode == http.StatusUnauthorized && e.ErrorType == "unauthorized_credentials"
}

// wrongPasswordMessage names neither which of the two was wrong nor whether the account exists.
//
//nolint:gosec // G101: a message about a password, not a credential
const wrongPasswordMessage = "the email address or password is incorrect"

func (e *Error) apiError() *rpcerr.Error {
	code := e.Code()
	out := &rpcerr.Error{Code: code, Reason: e.ErrorType, Domain: DomainStytch, Message: codeMessages[code]}
	if t, ok := errorTypes[e.ErrorType]; ok {
		out.Message = t.message
	}
	if e.wrongPassword() {
		out.Message = wrongPasswordMessage
	}
	if out.Message == "" {
		out.Message = codeMessages[codes.Internal]
	}
	if e.ErrorType == "" {
		// Not a Stytch error body (a proxy's page, an empty body): the reason is authsvc's.
		out.Domain = rpcerr.Domain
		out.Reason = "stytch_http_" + strconv.Itoa(e.StatusCode)
		if code == codes.Unavailable {
			out.Reason = "stytch_unavailable"
		}
	}
	if e.RequestID != "" {
		out.Metadata = map[string]string{MetadataRequestID: e.RequestID}
	}
	if code == codes.ResourceExhausted || code == codes.Unavailable {
		out.RetryAfter = e.RetryAfter
		if out.RetryAfter <= 0 {
			out.RetryAfter = defaultRetryDelay
		}
	}
	return out
}

// GRPCStatus: Stytch could not be reached or did not answer in time.
func (e *TransportError) GRPCStatus() *status.Status {
	return rpcerr.New(codes.Unavailable, "stytch_unavailable", codeMessages[codes.Unavailable]).
		WithRetry(defaultRetryDelay).GRPCStatus()
}

// GRPCStatus: a path parameter that is not one URL path segment is the caller's bad input; its
// name is the request field's (Stytch's placeholders are named after the fields).
func (e *PathParamError) GRPCStatus() *status.Status {
	return rpcerr.InvalidArgument(e.Param, "invalid_path_segment", e.Param+" "+e.Reason).GRPCStatus()
}
