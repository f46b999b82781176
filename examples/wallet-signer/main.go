// Command wallet-signer stands in for a crypto wallet in the README's walk-through of
// CryptoWalletsService: it makes an Ethereum or Solana key, prints its address, and signs a
// challenge as the wallet's software would (EIP-191 personal_sign for Ethereum, ed25519 for
// Solana). The key lives in a file you name; it is a throwaway test key, never a real wallet's.
//
//	go run ./examples/wallet-signer -type ethereum -key eth.key new      # prints the address
//	go run ./examples/wallet-signer -type ethereum -key eth.key sign "$CHALLENGE"  # prints the signature
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/authsvc/authsvc/internal/testkit"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wallet-signer:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("wallet-signer", flag.ContinueOnError)
	typ := fs.String("type", "ethereum", "wallet type: ethereum or solana")
	keyFile := fs.String("key", "", "file holding the key (written by new, read by sign)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" || fs.NArg() == 0 {
		return errors.New("usage: wallet-signer -type ethereum|solana -key FILE new | sign CHALLENGE")
	}
	switch fs.Arg(0) {
	case "new":
		w, hexKey, err := newWallet(*typ)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*keyFile, []byte(hexKey+"\n"), 0o600); err != nil {
			return fmt.Errorf("write key: %w", err)
		}
		fmt.Println(w.Address())
		return nil
	case "sign":
		if fs.NArg() != 2 {
			return errors.New("sign takes the challenge as one argument")
		}
		raw, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		w, err := loadWallet(*typ, strings.TrimSpace(string(raw)))
		if err != nil {
			return err
		}
		fmt.Println(w.Sign(fs.Arg(1)))
		return nil
	}
	return fmt.Errorf("unknown command %q: new or sign", fs.Arg(0))
}

func newWallet(typ string) (testkit.Wallet, string, error) {
	switch typ {
	case "ethereum":
		w, err := testkit.NewEthereumWallet()
		if err != nil {
			return nil, "", err
		}
		return w, w.Hex(), nil
	case "solana":
		w, err := testkit.NewSolanaWallet()
		if err != nil {
			return nil, "", err
		}
		return w, w.Hex(), nil
	}
	return nil, "", fmt.Errorf("unknown wallet type %q", typ)
}

func loadWallet(typ, hexKey string) (testkit.Wallet, error) {
	switch typ {
	case "ethereum":
		return testkit.EthereumWalletFromHex(hexKey)
	case "solana":
		return testkit.SolanaWalletFromHex(hexKey)
	}
	return nil, fmt.Errorf("unknown wallet type %q", typ)
}
