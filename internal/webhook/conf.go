package webhook

import (
	"errors"
	"fmt"
	"os"
	"strings"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// The variables that set the signing secret of Stytch's webhooks.
const (
	EnvSecret     = "AUTHSVC_STYTCH_WEBHOOK_SECRET"      //nolint:gosec // a variable name, not a credential
	EnvSecretFile = "AUTHSVC_STYTCH_WEBHOOK_SECRET_FILE" //nolint:gosec // a variable name, not a credential
)

// Conf is the webhook section of the configuration: the signing secret Stytch's dashboard shows
// for the endpoint (Svix's format, "whsec_" and base64). Without it POST /v1/webhooks/stytch is
// not served (dev mode makes one up for its emulator). The secret prints as "<hidden>".
type Conf struct {
	// Secret is the signing secret; empty when unset.
	Secret string
}

// String hides the secret, so that a Conf printed by mistake leaks nothing.
func (c Conf) String() string {
	if c.Secret == "" {
		return "webhook{}"
	}
	return "webhook{secret: <hidden>}"
}

// Key implements setting.Section.
func (*Conf) Key() string { return "webhook" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{
		{
			Env: EnvSecret, Flag: "stytch-webhook-secret",
			Usage:  "signing secret (whsec_...) of Stytch's webhooks; enables POST /v1/webhooks/stytch (prefer " + EnvSecretFile + ")",
			Redact: setting.Hidden,
			Set:    c.setSecret,
		},
		{
			Env: EnvSecretFile, Flag: "stytch-webhook-secret-file",
			Usage: "file holding the signing secret of Stytch's webhooks",
			Set:   c.readSecret,
		},
	}
}

// SetDefaults implements setting.Section: no secret, no webhook route.
func (c *Conf) SetDefaults() { *c = Conf{} }

// Validate implements setting.Section.
func (c *Conf) Validate() error {
	if c.Secret != "" {
		if err := checkSecret(c.Secret); err != nil {
			return setting.Named(EnvSecret, err)
		}
	}
	return nil
}

func (c *Conf) setSecret(text string) error {
	if err := checkSecret(text); err != nil {
		return err
	}
	c.Secret = text
	return nil
}

// readSecret reads the secret from a file; its errors never quote the file's content.
func (c *Conf) readSecret(file string) error {
	b, err := os.ReadFile(file) //nolint:gosec // the operator names the file on purpose
	if err != nil {
		return fmt.Errorf("cannot read %q: %w", file, errors.Unwrap(err))
	}
	return c.setSecret(strings.TrimSpace(string(b)))
}

// checkSecret accepts what the Svix library accepts, and refuses an empty key. Its error does not
// quote the secret.
func checkSecret(s string) error {
	if strings.TrimPrefix(s, "whsec_") == "" {
		return errors.New("empty signing secret")
	}
	if _, err := svix.NewWebhook(s); err != nil {
		return errors.New("not a Svix signing secret (whsec_ followed by base64)")
	}
	return nil
}
