package verify

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanStringByBytes is scanString without the eight-bytes-at-a-time skip:
// where the string ends, whether it is plain, and whether it is valid.
func scanStringByBytes(s string) (end int, plain, ok bool) {
	plain = true
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				return 0, false, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return 0, false, false
				}
				i += 5
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return 0, false, false
}

// TestScanStringWordSkip puts every byte value at every position of the
// first words of a string, and a second one after it, and checks that the
// word-at-a-time scan finds the same end and makes the same call as a scan
// byte by byte.
func TestScanStringWordSkip(t *testing.T) {
	filler := "abcdefghijklmnopqrstuvwx"
	for pos := range 20 {
		for c := range 256 {
			for _, second := range []string{"", "\\n", "\"", "é", "\x01"} {
				body := []byte(filler + second + "yz")
				body[pos] = byte(c)
				doc := `"` + string(body) + `" tail`
				wantEnd, wantPlain, wantOK := scanStringByBytes(doc)

				d := jsonDecoder{s: doc}
				raw, plain := d.scanString()
				if !wantOK {
					require.Error(t, d.err, "byte %#x at %d, then %q", c, pos, second)
					continue
				}
				require.NoError(t, d.err, "byte %#x at %d, then %q", c, pos, second)
				require.Equal(t, doc[:wantEnd], raw, "byte %#x at %d, then %q", c, pos, second)
				require.Equal(t, wantPlain, plain, "byte %#x at %d, then %q", c, pos, second)
				require.Equal(t, wantEnd, d.i)
			}
		}
	}
}

// TestSkipDeepNesting: values nested as deep as a token allows, closed or
// not, are validated by skip (which does not recurse), and the claims
// decoder hands what lies past maxAnyDepth to encoding/json, limits
// included.
func TestSkipDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", MaxTokenBytes) + strings.Repeat("]", MaxTokenBytes)
	d := jsonDecoder{s: deep}
	d.skip(true)
	require.NoError(t, d.end())

	unclosed := jsonDecoder{s: strings.Repeat(`{"a":[`, MaxTokenBytes/6)}
	unclosed.skip(false)
	require.Error(t, unclosed.err)

	var c parsedClaims
	require.Error(t, c.decode(`{"x":`+strings.Repeat("[", MaxTokenBytes)))
	require.Error(t, c.decode(`{"x":`+deep+`}`), "encoding/json's depth limit")
	nested := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	require.NoError(t, c.decode(`{"x":`+nested+`}`))
	assert.Len(t, c.custom["x"], 1)
}
