// Package idempotency makes retries of side-effecting RPCs safe: a call carrying an
// idempotency-key (gRPC metadata; the REST gateway forwards the Idempotency-Key header under that
// name) runs once, and a repeat within 24 hours gets the first call's response again instead of a
// second email, SMS, member or M2M client. Which RPCs honour keys is declared in the admission
// table (admission.Table.Idempotent); docs/idempotency.md is the user's and operator's guide.
//
// Decisions:
//   - A key is one value of 1 to 255 characters 0x21-0x7E (printable ASCII without space; a UUID
//     fits). Space is refused because HTTP strips leading and trailing spaces from header values,
//     so a key with spaces would not be the same key over REST and gRPC. Anything else (empty,
//     too long, a space, a control or non-ASCII character, two values) is INVALID_ARGUMENT
//     (reason idempotency_key_invalid) naming the header and the metadata key, and the call does
//     not run. The key is never echoed. A key on an RPC that does not honour keys is ignored.
//   - grpc-gateway drops a header value that is not printable ASCII (it cannot be gRPC text
//     metadata), which used to run the call as if no key had been sent. The gateway now forwards
//     such a value as binary metadata (idempotency-key-bin, see internal/gateway/idempotency.go),
//     and any value there is refused, so the one check here sees what every client sent.
//   - The key is scoped by RPC, caller identity (when the access layer knows one) and key; the
//     request is hashed (SHA-256 of its deterministic encoding). The same key with a different
//     request is INVALID_ARGUMENT (reason idempotency_key_reused), never a silent replay. A
//     stored response is thus only replayed to the caller that made it, for the same request
//     (for public RPCs the request itself holds the proof: CreateOrganization's intermediate
//     session token).
//   - Only successes are stored and replayed (the response proto, with the response header
//     idempotent-replayed: true). A failed call releases the key, so a retry runs again: a failure
//     from Stytch sent nothing, and a client that fixed the cause can retry with the same key.
//   - Every stored response is encrypted (AES-256-GCM from crypto/cipher, bound to its storage key
//     and request hash) whenever authsvc has a key, one rule rather than a list of secret-bearing
//     RPCs to keep up to date; it also keeps members' email addresses out of Redis. The keys come
//     from AUTHSVC_IDEMPOTENCY_KEYS_FILE (the first encrypts, all decrypt, the key ID is stored
//     with each record, so keys rotate without losing records). Without that setting, records in
//     memory use a random key of the process (only this process can read them anyway).
//   - With Redis and no configured key, responses are stored in the clear, and an RPC whose
//     response type has a debug_redact field (M2M CreateClient's client secret, Discovery
//     CreateOrganization's session, SCIM CreateConnection's bearer token) refuses a key before running: FAILED_PRECONDITION (reason
//     idempotency_key_not_supported; REST 400) naming the header and the missing setting. The
//     key and request are fine, so INVALID_ARGUMENT would mislead; what is missing is server
//     configuration, which is FAILED_PRECONDITION's meaning. Refusing beats the two alternatives:
//     writing a one-time secret to Redis in the clear, or silently running the call again on
//     every retry (a second client, a consumed intermediate session). Which RPCs carry secrets is
//     read from the response type, so it needs no entry in the admission table.
//   - A record that cannot be decrypted (its key was removed from the file within 24 hours, or
//     the record was tampered with) is INTERNAL and logged: the call already ran, so running it
//     again would repeat its side effect.
//   - A duplicate arriving while the first call is in flight gets ABORTED (REST 409) with a
//     RetryInfo of one second, rather than waiting: waiting across replicas would mean polling
//     Redis, and the client is retrying anyway. An in-flight claim expires after a minute so a
//     crashed replica cannot hold a key forever.
//   - Records live in memory (per replica, bounded) or, with AUTHSVC_REDIS_URL, in Redis (the
//     client internal/redisclient builds). When Redis cannot answer, a call with a key fails
//     closed (UNAVAILABLE): the caller asked for at-most-once, and a call without a key is not
//     affected.
//
// Conf (conf.go) is the package's configuration section: AUTHSVC_IDEMPOTENCY_KEYS_FILE, read and
// parsed once at startup.
package idempotency
