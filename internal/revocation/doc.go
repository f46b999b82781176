// Package revocation remembers sessions (a B2B member's or a consumer user's) revoked through
// authsvc until their JWTs can no longer verify, so that local JWT verification
// (verify.VerifierConfig.IsRevoked) rejects them at once instead of up to five minutes later: on
// the replica that revoked, and on the others as soon as the revocation's message arrives (below).
// It also remembers members whose every session ended at once (a deleted member: RevokeMember), as
// a cut-off on the JWTs' iat (verify.VerifierConfig.IsMemberRevoked), so that their sessions need
// not be listed one by one and a session started afterwards is not affected. A consumer user is
// remembered the same way, by user ID (member and user IDs never collide).
//
// Without Redis the list is in memory: exact on the replica that revoked, unknown to the others.
// With Redis (AUTHSVC_REDIS_URL) every revocation is written there, as a key that expires with the
// revoked JWTs, and in the same transaction published on the channel authsvc:revocations. Every
// replica subscribes in the background (an unreachable Redis does not delay startup) and applies
// each message to its local list as it arrives, so a revocation reaches the other replicas within
// the pub/sub delay: BenchmarkCrossReplicaRevocation, which make bench runs, measures it (p50 and
// p99 in docs/benchmarks/revocation.txt and docs/performance.md).
// The clients (the request path's and the subscription's) come from internal/redisclient.
//
// The keys stay the source of truth, for replicas that start later or missed a message. A replica
// asks Redis about a session it has no local answer for, then trusts a "not revoked" answer so
// that the hot path stays a map lookup: for SubscribedRecheckAfter (default 30 s, a backstop)
// while subscribed, for RecheckAfter (default 1 s) while not. Redis does not keep messages for a
// subscriber that is away, so every (re)subscription drops the cached "not revoked" answers (and
// lookups in flight do not cache theirs): the next check of each session asks Redis again. An
// unreadable message does the same. A subscription whose connection goes silent without breaking
// is found out by a ping after 1 s without traffic and replaced when 3 s more bring no answer.
// What a replica keeps from messages is bounded by Capacity; beyond it the keys answer.
//
// Fail policy: when Redis cannot answer, IsRevoked answers from local knowledge only (fail open):
// failing closed would reject every session of every member during a Redis outage, while the
// exposure of failing open is bounded by the JWT lifetime (5 minutes) and the revoking replica
// still knows. Failures are logged (at most every 10 s) and counted in
// authsvc_revocation_store_errors_total{op}: revoke, check, subscribe (the subscription could not
// be made or broke; the replica logs when it is back) and message (an unreadable message).
package revocation
