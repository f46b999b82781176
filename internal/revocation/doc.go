// Package revocation remembers member sessions revoked through authsvc until their JWTs can no
// longer verify, so that local JWT verification (verify.VerifierConfig.IsRevoked) rejects them at
// once instead of up to five minutes later, on every replica. It also remembers members whose
// every session ended at once (a deleted member: RevokeMember), as a cut-off on the JWTs' iat
// (verify.VerifierConfig.IsMemberRevoked), so that their sessions need not be listed one by one
// and a session started afterwards is not affected.
//
// Without Redis the list is in memory: exact on the replica that revoked, unknown to the others.
// With Redis (AUTHSVC_REDIS_URL) every revocation is also written there, and a replica asks Redis
// about a session it has no local answer for, then trusts a "not revoked" answer for RecheckAfter
// (default 1 s) so that the hot path stays a map lookup: a revocation reaches the other replicas
// within that time.
//
// Fail policy: when Redis cannot answer, IsRevoked answers from local knowledge only (fail open):
// failing closed would reject every session of every member during a Redis outage, while the
// exposure of failing open is bounded by the JWT lifetime (5 minutes) and the revoking replica
// still knows. Failures are logged (at most every 10 s) and counted in
// authsvc_revocation_store_errors_total{op}.
package revocation
