// Package service implements authsvc's gRPC services — authsvc.b2b.v1 (MagicLinks, OTPs, Sessions,
// Members, Discovery) and authsvc.m2m.v1 (M2M) — on top of the Stytch client.
//
// A handler translates a protobuf request into a stytchclient call and the answer back into protobuf.
// It knows protobuf and the Stytch client's Go types, never HTTP or JSON: the REST gateway reaches
// the same handlers through the gRPC server (and its interceptors), and hands browser cookies over as
// metadata (internal/callmeta).
//
// Three policies live here because every handler shares them:
//
//   - Errors: toStatus is the one place where an error becomes a gRPC status (errors.go). Stytch's
//     HTTP status picks the code, its error_type becomes google.rpc.ErrorInfo.reason with the
//     Stytch request ID in the metadata, and the message is authsvc's own: Stytch's error_message is
//     never passed on because it echoes user input and can reveal whether an account exists. RPCs
//     that redeem a credential for an anonymous caller (a magic-link token, an OTP code, an
//     intermediate session) report every rejection with one code, reason and message.
//   - Redirect URLs: RedirectPolicy (redirect.go) admits only allowlisted URLs.
//   - Local session checks: Sessions.Authenticate verifies JWTs in process and asks Stytch only when
//     that can change the answer; revocations are remembered (Revocations) so a logged-out JWT, or
//     any JWT of a deleted member, stops verifying locally at once.
package service
