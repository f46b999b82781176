// Package passwords is the password machinery of the Stytch emulator: real
// hashing of the passwords it stores and real verification of the hashes a
// project imports with /v1/passwords/migrate. It knows nothing of HTTP, JSON
// or the rest of authsvc, so the consumer and the B2B password endpoints can
// share it.
package passwords
