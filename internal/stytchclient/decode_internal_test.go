package stytchclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reference is Timestamp.UnmarshalJSON as it was before plainString: every literal through
// encoding/json.
func referenceTimestamp(b []byte) (time.Time, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %w", err)
	}
	return v, nil
}

func TestTimestampDecodesAsEncodingJSONDoes(t *testing.T) {
	for _, in := range []string{
		`"2024-05-01T12:34:56Z"`,
		`"2024-05-01T12:34:56.123456789Z"`,
		`"2024-05-01T12:34:56+02:00"`,
		`"2024-05-01T12:34:56\u005a"`, // an escaped Z: encoding/json's path
		`"2024-05-01T12:34:56\/"`,
		`"2024-05-01T12:34:56Z "`,
		`"2024-05-01 12:34:56Z"`,
		`"2024-05-01T12:34:56é"`,
		`"yesterday"`,
		`"`,
		`12`,
		`true`,
	} {
		t.Run(in, func(t *testing.T) {
			want, wantErr := referenceTimestamp([]byte(in))
			var got Timestamp
			err := got.UnmarshalJSON([]byte(in))
			if wantErr != nil {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, want.Equal(got.Time), "got %v, want %v", got.Time, want)
			assert.Equal(t, want.Location().String(), got.Location().String())
		})
	}
	for _, in := range []string{`null`, `""`} {
		var got Timestamp
		got.Time = time.Now()
		require.NoError(t, got.UnmarshalJSON([]byte(in)))
		assert.True(t, got.IsZero(), in)
	}
}

func FuzzTimestampDecodesAsEncodingJSONDoes(f *testing.F) {
	f.Add(`"2024-05-01T12:34:56.5Z"`)
	f.Add(`"2024-05-01T12:34:56\u005a"`)
	f.Fuzz(func(t *testing.T, in string) {
		if in == "null" || in == `""` || !json.Valid([]byte(in)) {
			return // encoding/json calls UnmarshalJSON with one valid literal only
		}
		want, wantErr := referenceTimestamp([]byte(in))
		var got Timestamp
		err := got.UnmarshalJSON([]byte(in))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, encoding/json's %v", in, err, wantErr)
		}
		if err == nil && (!want.Equal(got.Time) || want.Location().String() != got.Location().String()) {
			t.Fatalf("%q: %v, encoding/json's %v", in, got.Time, want)
		}
	})
}

func TestReadCappedReadsWhatReadAllReads(t *testing.T) {
	const maxBody = 64
	body := strings.Repeat("x", 100)
	for _, size := range []int{0, 1, 10, 63, 64, 65, 100} {
		for _, announced := range []int64{-1, 0, 5, int64(size), int64(size) + 3, maxBody, maxBody + 1} {
			for _, oneByte := range []bool{false, true} {
				name := fmt.Sprintf("size=%d/announced=%d/oneByte=%v", size, announced, oneByte)
				t.Run(name, func(t *testing.T) {
					src := func() io.Reader {
						var r io.Reader = strings.NewReader(body[:size])
						if oneByte {
							r = iotest.OneByteReader(r)
						}
						return r
					}
					want, wantErr := io.ReadAll(io.LimitReader(src(), maxBody+1))
					got, err := readCapped(src(), announced, maxBody)
					require.NoError(t, wantErr)
					require.NoError(t, err)
					assert.Equal(t, string(want), string(got))
				})
			}
		}
	}
	_, err := readCapped(iotest.ErrReader(errors.New("reset")), 10, maxBody)
	require.EqualError(t, err, "reset")
}
