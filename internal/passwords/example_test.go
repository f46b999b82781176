package passwords_test

import (
	"fmt"

	"github.com/authsvc/authsvc/internal/passwords"
)

// The migrate-then-authenticate flow of the emulator: validate the imported
// hash when /v1/passwords/migrate is called, and on the user's first
// /v1/passwords/authenticate verify against it and store a native hash.
func ExampleHasher_Upgrade() {
	imp, err := passwords.ParseImport(passwords.Import{
		HashType:  passwords.HashMD5,
		Hash:      "4a4398d8e89b9aeee7a49d93e1f9e2f1", // MD5("pre" + password + "post")
		MD5Config: &passwords.SaltConfig{PrependSalt: "pre", AppendSalt: "post"},
	}, passwords.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := passwords.NewHasher(passwords.TestParams())
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, ok, _ := h.Upgrade(imp, "wrong password"); !ok {
		fmt.Println("wrong password: refused")
	}
	stored, ok, err := h.Upgrade(imp, "Tr0ub4dor&3")
	if err != nil || !ok {
		fmt.Println("unexpected:", err)
		return
	}
	ok, _ = h.Verify(stored, "Tr0ub4dor&3")
	fmt.Println("upgraded to argon2id:", ok)
	// Output:
	// wrong password: refused
	// upgraded to argon2id: true
}

func ExampleParseImport_configError() {
	_, err := passwords.ParseImport(passwords.Import{
		HashType:     passwords.HashScrypt,
		Hash:         "M5FYtTLOoZzFuLYtv8wcVH9E19M3Vd/25yMd7VsOEqU=",
		ScryptConfig: &passwords.ScryptConfig{Salt: "c2FsdA==", NParameter: 1000, RParameter: 8, PParameter: 1, KeyLength: 32},
	}, passwords.DefaultLimits())
	fmt.Println(err)
	// Output:
	// passwords: scrypt_config.n_parameter: must be a power of two greater than 1 and at most 262144
}

func ExampleChecker_Check() {
	c, err := passwords.NewChecker(passwords.DefaultPolicy())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, pw := range []string{"kitchen7", "Summer2024!", "tangerine Orbit 42 velvet"} {
		r := c.Check(pw, "jane.doe@example.com")
		fmt.Printf("valid=%v score=%d breached=%v warning=%q\n", r.ValidPassword, r.Score, r.BreachedPassword, r.Feedback.Warning)
	}
	// Output:
	// valid=false score=1 breached=false warning="A common word with a few characters added is still easy to guess."
	// valid=false score=2 breached=true warning="This password is on a list of passwords known from data breaches."
	// valid=true score=4 breached=false warning=""
}
