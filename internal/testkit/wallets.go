package testkit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/mr-tron/base58"
	"golang.org/x/crypto/sha3"
)

// Wallet is a crypto wallet made by a test: a key it generated, its address as Stytch takes it, and
// the signature the wallet software would make over a challenge.
type Wallet interface {
	// Type is Stytch's crypto_wallet_type: "ethereum" or "solana".
	Type() string
	// Address is the wallet's address: 0x and 40 hex digits (EIP-55 letter case) for Ethereum,
	// the base58 public key for Solana.
	Address() string
	// Sign signs msg as a wallet does for a sign-in: EIP-191 personal_sign (hex r || s || v) for
	// Ethereum, ed25519 over the bytes (base58) for Solana.
	Sign(msg string) string
}

// EthereumWallet is a secp256k1 key.
type EthereumWallet struct{ key *secp256k1.PrivateKey }

// NewEthereumWallet generates a key.
func NewEthereumWallet() (*EthereumWallet, error) {
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generate secp256k1 key: %w", err)
	}
	return &EthereumWallet{key: k}, nil
}

// EthereumWalletFromHex loads a key from its 32 bytes in hex.
func EthereumWalletFromHex(s string) (*EthereumWallet, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("an Ethereum key is 32 bytes of hex")
	}
	return &EthereumWallet{key: secp256k1.PrivKeyFromBytes(b)}, nil
}

// Hex is the private key, 32 bytes in hex.
func (w *EthereumWallet) Hex() string { return hex.EncodeToString(w.key.Serialize()) }

// Type implements Wallet.
func (w *EthereumWallet) Type() string { return "ethereum" }

// Address implements Wallet.
func (w *EthereumWallet) Address() string {
	raw := keccak(w.key.PubKey().SerializeUncompressed()[1:])[12:]
	lower := hex.EncodeToString(raw)
	sum := hex.EncodeToString(keccak([]byte(lower)))
	out := []byte(lower)
	for i, c := range out {
		if c >= 'a' && c <= 'f' && sum[i] >= '8' {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out)
}

// Sign implements Wallet.
func (w *EthereumWallet) Sign(msg string) string {
	digest := keccak([]byte(fmt.Sprintf("\x19Ethereum Signed Message:\n%d%s", len(msg), msg)))
	c := ecdsa.SignCompact(w.key, digest, false)    // [27 + recovery id] r s
	sig := append(append([]byte{}, c[1:]...), c[0]) // r s v, as wallets send it
	return "0x" + hex.EncodeToString(sig)
}

// SolanaWallet is an ed25519 key.
type SolanaWallet struct{ key ed25519.PrivateKey }

// NewSolanaWallet generates a key.
func NewSolanaWallet() (*SolanaWallet, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return &SolanaWallet{key: k}, nil
}

// SolanaWalletFromHex loads a key from its 32-byte seed in hex.
func SolanaWalletFromHex(s string) (*SolanaWallet, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("a Solana key seed is 32 bytes of hex")
	}
	return &SolanaWallet{key: ed25519.NewKeyFromSeed(b)}, nil
}

// Hex is the key's seed, 32 bytes in hex.
func (w *SolanaWallet) Hex() string { return hex.EncodeToString(w.key.Seed()) }

// Type implements Wallet.
func (w *SolanaWallet) Type() string { return "solana" }

// Address implements Wallet.
func (w *SolanaWallet) Address() string {
	pub, _ := w.key.Public().(ed25519.PublicKey)
	return base58.Encode(pub)
}

// Sign implements Wallet.
func (w *SolanaWallet) Sign(msg string) string {
	return base58.Encode(ed25519.Sign(w.key, []byte(msg)))
}

func keccak(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)
}
