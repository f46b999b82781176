package service

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Users implements consumerv1.UsersServiceServer on a consumer project's client.
//
// A service (read:users / write:users) acts on any user. A user acts on their own account only:
// the access layer admits a user session on Get and Update only for the session's own user_id
// (user_field), Update refuses the fields only the backend may set, and a factor deletion checks
// here that the factor is the caller's own.
type Users struct {
	consumerv1.UnimplementedUsersServiceServer
	base
	stytch  *stytchclient.Client
	revoked revoker
}

var _ consumerv1.UsersServiceServer = (*Users)(nil)

// NewUsers returns the UsersService; stytch is the consumer project's client, revocations records
// the sessions of deleted users (now is the verifier's clock).
func NewUsers(stytch *stytchclient.Client, revocations Revocations, now func() time.Time, log *slog.Logger) *Users {
	return &Users{base: newBase(log), stytch: stytch, revoked: revoker{list: revocations, now: now}}
}

// callerUser says whether the caller acts as a consumer user (a verified user session,
// access.KindUser) and which one.
//
// The access layer resolves a user session into a KindUser Principal with the user's ID once the
// app gives it the consumer session checker; a user caller whose ID is unknown is refused by every
// check below (fail closed).
func callerUser(p access.Principal) (userID string, isUser bool) {
	if p.Kind != access.KindUser {
		return "", false
	}
	return p.UserID, true
}

// errUserField refuses a field that only a service may set.
func errUserField(field string) error {
	return &rpcerr.Error{
		Code: codes.PermissionDenied, Reason: "field_not_allowed_for_user", Field: field,
		Message: field + " can only be set by a service (write:users), not with a user session",
	}
}

// errNotYourFactor refuses a factor deletion by a user for a factor that is not theirs, in the
// same words whether or not the factor exists, so the answer reveals nothing about other accounts.
var errNotYourFactor = rpcerr.New(codes.PermissionDenied, "factor_not_owned", "the factor is not one of your account's")

// Create adds a user.
func (s *Users) Create(ctx context.Context, req *consumerv1.UsersServiceCreateRequest) (*consumerv1.UsersServiceCreateResponse, error) {
	res, err := s.stytch.UserCreate(ctx, stytchclient.UserCreateParams{
		Email:               req.GetEmail(),
		PhoneNumber:         req.GetPhoneNumber(),
		Name:                fromName(req.GetName()),
		CreateUserAsPending: req.GetCreateUserAsPending(),
		TrustedMetadata:     fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata:   fromStruct(req.GetUntrustedMetadata()),
		ExternalID:          req.GetExternalId(),
		Roles:               req.GetRoles(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.UsersServiceCreateResponse{
		UserId: res.UserID, EmailId: res.EmailID, PhoneId: res.PhoneID, Status: userStatuses.value(res.Status), User: toUser(&res.User),
	}, nil
}

// Get returns a user.
func (s *Users) Get(ctx context.Context, req *consumerv1.UsersServiceGetRequest) (*consumerv1.UsersServiceGetResponse, error) {
	res, err := s.stytch.UserGet(ctx, req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.UsersServiceGetResponse{User: toUser(&res.User)}, nil
}

// Update changes the fields that are set; a user may change only their name and untrusted metadata.
func (s *Users) Update(ctx context.Context, req *consumerv1.UsersServiceUpdateRequest) (*consumerv1.UsersServiceUpdateResponse, error) {
	if _, isUser := callerUser(access.From(ctx)); isUser {
		switch {
		case req.GetTrustedMetadata() != nil:
			return nil, errUserField("trusted_metadata")
		case req.ExternalId != nil:
			return nil, errUserField("external_id")
		case req.GetRoles() != nil:
			return nil, errUserField("roles")
		}
	}
	p := stytchclient.UserUpdateParams{
		UserID:            req.GetUserId(),
		Name:              fromName(req.GetName()),
		TrustedMetadata:   fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata: fromStruct(req.GetUntrustedMetadata()),
		ExternalID:        req.ExternalId,
	}
	if r := req.GetRoles(); r != nil {
		p.Roles = append([]string{}, r.GetRoleIds()...) // non-nil: an empty list removes every role
	}
	res, err := s.stytch.UserUpdate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.UsersServiceUpdateResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// Delete deletes a user.
func (s *Users) Delete(ctx context.Context, req *consumerv1.UsersServiceDeleteRequest) (*consumerv1.UsersServiceDeleteResponse, error) {
	res, err := s.stytch.UserDelete(ctx, req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	// Stytch ended the user's sessions; their JWTs would verify locally for up to 5 more minutes,
	// on every replica, unless remembered as revoked (by user ID, Stytch's spelling of it).
	s.revoked.member(ctx, res.UserID)
	return &consumerv1.UsersServiceDeleteResponse{UserId: res.UserID}, nil
}

// Search finds users a page at a time.
func (s *Users) Search(ctx context.Context, req *consumerv1.UsersServiceSearchRequest) (*consumerv1.UsersServiceSearchResponse, error) {
	res, err := s.stytch.UserSearch(ctx, stytchclient.UserSearchParams{
		Cursor: req.GetCursor(),
		Limit:  req.GetLimit(),
		Query:  userQuery(req.GetQuery()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.UsersServiceSearchResponse{
		Results:    make([]*consumerv1.User, 0, len(res.Results)),
		NextCursor: res.ResultsMetadata.NextCursor,
		Total:      clampInt32(res.ResultsMetadata.Total),
	}
	for i := range res.Results {
		out.Results = append(out.Results, toUser(&res.Results[i]))
	}
	return out, nil
}

// userQuery turns the typed filters into Stytch's {filter_name, filter_value} operands.
func userQuery(q *consumerv1.UserSearchQuery) *stytchclient.SearchQuery {
	if q == nil {
		return nil
	}
	out := &stytchclient.SearchQuery{Operator: "AND", Operands: make([]map[string]any, 0, len(q.GetOperands()))}
	op := func(name string, value any) {
		out.Operands = append(out.Operands, map[string]any{"filter_name": name, "filter_value": value})
	}
	for _, o := range q.GetOperands() {
		switch f := o.GetFilter().(type) {
		case *consumerv1.UserSearchOperand_UserIds:
			op("user_id", f.UserIds.GetValues())
		case *consumerv1.UserSearchOperand_Statuses:
			names := make([]string, 0, len(f.Statuses.GetValues()))
			for _, st := range f.Statuses.GetValues() {
				names = append(names, userStatuses.name(st))
			}
			op("status", names)
		case *consumerv1.UserSearchOperand_EmailAddresses:
			op("email_address", f.EmailAddresses.GetValues())
		case *consumerv1.UserSearchOperand_EmailIds:
			op("email_id", f.EmailIds.GetValues())
		case *consumerv1.UserSearchOperand_EmailDomains:
			op("email_domain", f.EmailDomains.GetValues())
		case *consumerv1.UserSearchOperand_EmailAddressFuzzy:
			op("email_address_fuzzy", f.EmailAddressFuzzy)
		case *consumerv1.UserSearchOperand_EmailVerified:
			op("email_verified", f.EmailVerified)
		case *consumerv1.UserSearchOperand_PhoneNumbers:
			op("phone_number", f.PhoneNumbers.GetValues())
		case *consumerv1.UserSearchOperand_PhoneIds:
			op("phone_id", f.PhoneIds.GetValues())
		case *consumerv1.UserSearchOperand_PhoneNumberFuzzy:
			op("phone_number_fuzzy", f.PhoneNumberFuzzy)
		case *consumerv1.UserSearchOperand_PhoneVerified:
			op("phone_verified", f.PhoneVerified)
		case *consumerv1.UserSearchOperand_FullNameFuzzy:
			op("full_name_fuzzy", f.FullNameFuzzy)
		case *consumerv1.UserSearchOperand_PasswordExists:
			op("password_exists", f.PasswordExists)
		case *consumerv1.UserSearchOperand_Roles:
			op("roles", f.Roles.GetValues())
		case *consumerv1.UserSearchOperand_CreatedAtGreaterThan:
			op("created_at_greater_than", f.CreatedAtGreaterThan.AsTime().UTC().Format(time.RFC3339))
		case *consumerv1.UserSearchOperand_CreatedAtLessThan:
			op("created_at_less_than", f.CreatedAtLessThan.AsTime().UTC().Format(time.RFC3339))
		}
	}
	return out
}

// factorIDs lists the IDs of every factor of a user, by kind.
func factorIDs(u *stytchclient.User) map[string][]string {
	ids := map[string][]string{}
	for _, e := range u.Emails {
		ids["email"] = append(ids["email"], e.EmailID)
	}
	for _, p := range u.PhoneNumbers {
		ids["phone"] = append(ids["phone"], p.PhoneID)
	}
	if u.Password != nil {
		ids["password"] = append(ids["password"], u.Password.PasswordID)
	}
	for _, t := range u.TOTPs {
		ids["totp"] = append(ids["totp"], t.TOTPID)
	}
	for _, w := range u.WebAuthnRegistrations {
		ids["webauthn"] = append(ids["webauthn"], w.WebAuthnRegistrationID)
	}
	for _, p := range u.Providers {
		ids["oauth"] = append(ids["oauth"], p.OAuthUserRegistrationID)
	}
	for _, c := range u.CryptoWallets {
		ids["crypto"] = append(ids["crypto"], c.CryptoWalletID)
	}
	for _, b := range u.BiometricRegistrations {
		ids["biometric"] = append(ids["biometric"], b.BiometricRegistrationID)
	}
	return ids
}

// deleteFactor deletes one factor by its ID. A user may delete only a factor of their own account:
// the handler reads the caller's user and refuses any other ID (one that does not exist included)
// with the same answer. Stytch compares IDs in any letter case, and so does the check.
func (s *Users) deleteFactor(ctx context.Context, kind, id string, del func(context.Context, string) (*stytchclient.UserResult, error)) (*stytchclient.UserResult, error) {
	if userID, isUser := callerUser(access.From(ctx)); isUser {
		if userID == "" {
			return nil, errNotYourFactor
		}
		u, err := s.stytch.UserGet(ctx, userID)
		if err != nil {
			return nil, s.toStatus(ctx, err, nil)
		}
		owned := false
		for _, f := range factorIDs(&u.User)[kind] {
			owned = owned || (f != "" && strings.EqualFold(f, id))
		}
		if !owned {
			return nil, errNotYourFactor
		}
	}
	res, err := del(ctx, id)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return res, nil
}

// DeleteEmail removes an email address.
func (s *Users) DeleteEmail(ctx context.Context, req *consumerv1.UsersServiceDeleteEmailRequest) (*consumerv1.UsersServiceDeleteEmailResponse, error) {
	res, err := s.deleteFactor(ctx, "email", req.GetEmailId(), s.stytch.UserDeleteEmail)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteEmailResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeletePhoneNumber removes a phone number.
func (s *Users) DeletePhoneNumber(ctx context.Context, req *consumerv1.UsersServiceDeletePhoneNumberRequest) (*consumerv1.UsersServiceDeletePhoneNumberResponse, error) {
	res, err := s.deleteFactor(ctx, "phone", req.GetPhoneId(), s.stytch.UserDeletePhoneNumber)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeletePhoneNumberResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeletePassword removes the password.
func (s *Users) DeletePassword(ctx context.Context, req *consumerv1.UsersServiceDeletePasswordRequest) (*consumerv1.UsersServiceDeletePasswordResponse, error) {
	res, err := s.deleteFactor(ctx, "password", req.GetPasswordId(), s.stytch.UserDeletePassword)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeletePasswordResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeleteTOTP removes an authenticator-app registration.
func (s *Users) DeleteTOTP(ctx context.Context, req *consumerv1.UsersServiceDeleteTOTPRequest) (*consumerv1.UsersServiceDeleteTOTPResponse, error) {
	res, err := s.deleteFactor(ctx, "totp", req.GetTotpId(), s.stytch.UserDeleteTOTP)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteTOTPResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeleteWebAuthnRegistration removes a passkey or security key.
func (s *Users) DeleteWebAuthnRegistration(ctx context.Context, req *consumerv1.UsersServiceDeleteWebAuthnRegistrationRequest) (*consumerv1.UsersServiceDeleteWebAuthnRegistrationResponse, error) {
	res, err := s.deleteFactor(ctx, "webauthn", req.GetWebauthnRegistrationId(), s.stytch.UserDeleteWebAuthnRegistration)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteWebAuthnRegistrationResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeleteOAuthRegistration removes a linked OAuth identity.
func (s *Users) DeleteOAuthRegistration(ctx context.Context, req *consumerv1.UsersServiceDeleteOAuthRegistrationRequest) (*consumerv1.UsersServiceDeleteOAuthRegistrationResponse, error) {
	res, err := s.deleteFactor(ctx, "oauth", req.GetOauthUserRegistrationId(), s.stytch.UserDeleteOAuthRegistration)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteOAuthRegistrationResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeleteCryptoWallet removes a crypto wallet.
func (s *Users) DeleteCryptoWallet(ctx context.Context, req *consumerv1.UsersServiceDeleteCryptoWalletRequest) (*consumerv1.UsersServiceDeleteCryptoWalletResponse, error) {
	res, err := s.deleteFactor(ctx, "crypto", req.GetCryptoWalletId(), s.stytch.UserDeleteCryptoWallet)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteCryptoWalletResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// DeleteBiometricRegistration removes a mobile biometric registration.
func (s *Users) DeleteBiometricRegistration(ctx context.Context, req *consumerv1.UsersServiceDeleteBiometricRegistrationRequest) (*consumerv1.UsersServiceDeleteBiometricRegistrationResponse, error) {
	res, err := s.deleteFactor(ctx, "biometric", req.GetBiometricRegistrationId(), s.stytch.UserDeleteBiometricRegistration)
	if err != nil {
		return nil, err
	}
	return &consumerv1.UsersServiceDeleteBiometricRegistrationResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}

// ExchangePrimaryFactor replaces a user's only factor.
func (s *Users) ExchangePrimaryFactor(ctx context.Context, req *consumerv1.UsersServiceExchangePrimaryFactorRequest) (*consumerv1.UsersServiceExchangePrimaryFactorResponse, error) {
	res, err := s.stytch.UserExchangePrimaryFactor(ctx, stytchclient.UserExchangePrimaryFactorParams{
		UserID:       req.GetUserId(),
		EmailAddress: req.GetEmailAddress(),
		PhoneNumber:  req.GetPhoneNumber(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.UsersServiceExchangePrimaryFactorResponse{UserId: res.UserID, User: toUser(&res.User)}, nil
}
