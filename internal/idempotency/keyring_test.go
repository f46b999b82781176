package idempotency_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/idempotency"
)

func TestParseKeyring(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	k, err := idempotency.ParseKeyring(" new:" + k2 + "\n old:" + k1 + "\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"new", "old"}, k.IDs(), "the first encrypts")
	k, err = idempotency.ParseKeyring("a:" + k1 + ",b:" + k2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, k.IDs())

	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	for name, tc := range map[string]struct{ in, want string }{
		"empty":     {" \n", "no key"},
		"no ID":     {k1, "entry 1: want id:base64"},
		"bad ID":    {"a/b:" + k1, "entry 1: the ID must be"},
		"long ID":   {strings.Repeat("i", 33) + ":" + k1, "entry 1: the ID must be"},
		"duplicate": {"a:" + k1 + ",a:" + k2, `entry 2: ID "a" is listed twice`},
		"short key": {"a:" + k1 + ",b:" + short, `entry 2 (ID "b"): the key is not standard base64 of 32 bytes`},
		"not b64":   {"a:" + k1[:40] + "!!!!", `entry 1 (ID "a"): the key is not standard base64`},
	} {
		_, err := idempotency.ParseKeyring(tc.in)
		require.ErrorContains(t, err, tc.want, name)
		for _, secret := range []string{k1, k2, short, k1[:40]} {
			assert.NotContains(t, err.Error(), secret, "%s: no key material in the error", name)
		}
	}
}

// A keyring printed by fmt or slog (a config dump, a debug log) shows its key IDs, never the keys.
func TestKeyringNeverPrintsKeys(t *testing.T) {
	raw := bytes.Repeat([]byte{0x42}, idempotency.KeySize)
	k, err := idempotency.ParseKeyring("id1:" + base64.StdEncoding.EncodeToString(raw))
	require.NoError(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "keys", k)
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), logged.String()} {
		assert.Contains(t, out, "id1")
		assert.NotContains(t, out, base64.StdEncoding.EncodeToString(raw))
		assert.NotContains(t, out, string(raw))
		assert.NotContains(t, out, "66, 66, 66") // the bytes, as %v of a slice would print them
	}
}

// BenchmarkReplay measures a replay from the memory store: decrypting and decoding a stored
// CreateClient response.
func BenchmarkReplay(b *testing.B) {
	i, err := idempotency.New(idempotency.Config{Applies: func(string) bool { return true }})
	require.NoError(b, err)
	ic := i.UnaryServerInterceptor()
	h := &secretHandler{}
	in := metadata.NewIncomingContext(b.Context(), metadata.Pairs(idempotency.MetadataKey, "bench"))
	ctx := grpc.NewContextWithServerTransportStream(in, &serverStream{})
	req := &m2mv1.CreateClientRequest{ClientName: "svc", Scopes: []string{"read:x"}}
	info := &grpc.UnaryServerInfo{FullMethod: createClient}
	_, err = ic(ctx, req, info, h.handle)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		// A stream per call, as gRPC gives: the test stream keeps every header it is sent.
		ctx := grpc.NewContextWithServerTransportStream(in, &serverStream{})
		if _, err := ic(ctx, req, info, h.handle); err != nil {
			b.Fatal(err)
		}
	}
	require.Equal(b, 1, h.count())
}
