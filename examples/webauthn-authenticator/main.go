// Command webauthn-authenticator is a software passkey for trying authsvc's WebAuthnService with
// curl (README, "A passkey with curl"): it plays the browser and the authenticator, answering the
// options of a register or authenticate start with a signed credential. It keeps its key in a file
// between runs. Test keys only: the private key is stored unencrypted.
//
//	curl ... /v1/webauthn/register/start ...     | webauthn-authenticator -state passkey.json register | curl ... /v1/webauthn/register -d @-
//	curl ... /v1/webauthn/authenticate/start ... | webauthn-authenticator -state passkey.json login    | curl ... /v1/webauthn/authenticate -d @-
//
// It reads the start call's JSON answer on stdin and prints the body of the complete call:
// {"public_key_credential": "..."}, with session_duration_minutes when -session-minutes is set.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/authsvc/authsvc/internal/testkit/webauthnkey"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webauthn-authenticator:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("webauthn-authenticator", flag.ContinueOnError)
	statePath := fs.String("state", "passkey.json", "file that keeps the key between register and login")
	origin := fs.String("origin", "http://localhost:3000", "the page origin the browser would report")
	alg := fs.String("alg", "ES256", "key algorithm for a new registration: ES256 or RS256")
	format := fs.String("attestation", "packed", "attestation format of a new registration: none or packed")
	minutes := fs.Int("session-minutes", 0, "start a session of this many minutes (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "register" && fs.Arg(0) != "login") {
		return errors.New("usage: webauthn-authenticator [flags] register|login < start-response.json")
	}
	var start struct {
		Creation string `json:"public_key_credential_creation_options"`
		Request  string `json:"public_key_credential_request_options"`
	}
	if err := json.NewDecoder(in).Decode(&start); err != nil {
		return fmt.Errorf("read the start response on stdin: %w", err)
	}

	var (
		key  *webauthnkey.Authenticator
		cred string
		err  error
	)
	if fs.Arg(0) == "register" {
		if start.Creation == "" {
			return errors.New("stdin holds no public_key_credential_creation_options (did the start call fail?)")
		}
		a := map[string]webauthnkey.Alg{"ES256": webauthnkey.ES256, "RS256": webauthnkey.RS256}[*alg]
		if key, err = webauthnkey.New(a, webauthnkey.Options{Format: webauthnkey.Format(*format), Attachment: "platform"}); err != nil {
			return err
		}
		cred, err = key.Register(start.Creation, *origin)
	} else {
		if start.Request == "" {
			return errors.New("stdin holds no public_key_credential_request_options (did the start call fail?)")
		}
		saved, rerr := os.ReadFile(*statePath)
		if rerr != nil {
			return fmt.Errorf("no saved key (register first): %w", rerr)
		}
		if key, err = webauthnkey.Load(saved); err != nil {
			return err
		}
		cred, err = key.Assert(start.Request, *origin)
	}
	if err != nil {
		return err
	}
	saved, err := json.Marshal(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*statePath, saved, 0o600); err != nil { //nolint:gosec // the path is the -state flag of the person running it
		return err
	}
	body := map[string]any{"public_key_credential": cred}
	if *minutes > 0 {
		body["session_duration_minutes"] = *minutes
	}
	return json.NewEncoder(out).Encode(body)
}
