// Package testkit holds the test helpers that the tests of more than one package share: a clock
// moved by hand, a buffer that collects logs written from other goroutines, the sum of an
// OpenTelemetry counter, and the Stytch emulator with the production client wired to it and
// members logged in. It is for tests only: nothing but _test.go files and the other test-helper
// packages (internal/apptest, internal/testkit/sessionkit) import it.
//
// Of authsvc it imports only the emulator and the Stytch client (with what they import), so that
// the in-package tests of everything else, the verifier's among them, can use it without an
// import cycle; helpers that need the verifier or the session checker are in
// internal/testkit/sessionkit. internal/testkit/webauthnkey is a software WebAuthn authenticator
// (the consumer WebAuthn tests and examples/webauthn-authenticator use it). A helper only one
// package uses stays in that package's tests.
package testkit
