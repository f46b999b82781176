// Package idempotency makes retries of side-effecting RPCs safe: a call carrying an
// idempotency-key (gRPC metadata; the REST gateway forwards the Idempotency-Key header under that
// name) runs once, and a repeat within 24 hours gets the first call's response again instead of a
// second email, SMS or member. Which RPCs honour keys is declared in the admission table
// (admission.Table.Idempotent).
//
// Decisions:
//   - The key is scoped by RPC, caller identity (when the access layer knows one) and key; the
//     request is hashed (SHA-256 of its deterministic encoding). The same key with a different
//     request is INVALID_ARGUMENT (reason idempotency_key_reused), never a silent replay.
//   - Only successes are stored and replayed (the response proto, with the response header
//     idempotent-replayed: true). A failed call releases the key, so a retry runs again: a failure
//     from Stytch sent nothing, and a client that fixed the cause can retry with the same key.
//   - A duplicate arriving while the first call is in flight gets ABORTED (REST 409) with a
//     RetryInfo of one second, rather than waiting: waiting across replicas would mean polling
//     Redis, and the client is retrying anyway. An in-flight claim expires after a minute so a
//     crashed replica cannot hold a key forever.
//   - A response holding a secret (any debug_redact field set: session tokens, client secrets)
//     is never stored; the key is released instead. No such RPC is marked idempotent today; this
//     guards the future.
//   - Keys are 1 to 128 characters of A-Z a-z 0-9 . _ : - (a UUID fits); anything else is
//     INVALID_ARGUMENT (reason idempotency_key_invalid).
//   - Records live in memory (per replica, bounded) or, with AUTHSVC_REDIS_URL, in Redis. When
//     Redis cannot answer, a call with a key fails closed (UNAVAILABLE): the caller asked for
//     at-most-once, and a call without a key is not affected.
package idempotency
