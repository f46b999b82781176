package verify

import (
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonDecoder reads a JWT's header and claims in one pass straight into
// their typed fields. It is hand-written because encoding/json (v1) costs
// too much here: on the ~1.4 KB payload of a session JWT it takes about as
// long only to validate the input as this decoder takes to decode it into
// SessionClaims, and over four times as long to decode it into plain
// structs, more than half an RSA-2048 verify (BenchmarkDecodeClaims,
// docs/benchmarks/verify.txt). encoding/json/v2 needs GOEXPERIMENT, and a
// faster third-party decoder in the token path would not reproduce
// encoding/json's semantics, which the verifier's behaviour was defined by.
//
// It is a strict RFC 8259 scanner whose results are, by design, what the
// encoding/json decoding it replaced produced: the same inputs rejected,
// the same values (map semantics where a map was decoded, struct semantics
// with case-insensitive names where a struct was), and encoding/json itself
// for the rare values it does not handle (strings with escapes or invalid
// UTF-8, dates that are not whole seconds, deep nesting in custom claims).
// FuzzVerifyMatchesReference holds it to that against the previous
// implementation.
//
// Syntax errors are fatal and sticky (err); type errors are returned by the
// typed methods, which still consume the value so the scan can go on, as
// encoding/json does. Nothing recurses on input not yet validated beyond
// maxAnyDepth: skip is iterative, so a token of nothing but brackets costs
// no stack.
type jsonDecoder struct {
	s   string
	i   int
	err error
}

// maxAnyDepth bounds the recursion of decodeAny; deeper values are
// validated iteratively, then decoded by encoding/json.
const maxAnyDepth = 32

var (
	errJSONSyntax = errors.New("invalid JSON")
	errJSONType   = errors.New("JSON value of the wrong type")
	errJSONNumber = errors.New("JSON number out of range")
)

// fail records a syntax error at the current offset and ends the scan.
func (d *jsonDecoder) fail() {
	if !d.failed() {
		d.err = errJSONSyntax
	}
	d.i = len(d.s)
}

// failed reports whether a syntax error has ended the scan; the error is
// reported once, by end (or by whoever reads err).
func (d *jsonDecoder) failed() bool { return d.err != nil }

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *jsonDecoder) peek() byte {
	for d.i < len(d.s) {
		switch c := d.s[d.i]; c {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return c
		}
	}
	return 0
}

// end checks that nothing but whitespace follows the document.
func (d *jsonDecoder) end() error {
	if d.peek() != 0 {
		d.fail()
	}
	return d.err
}

// scanString consumes the string at d.i (an opening quote) and returns it
// with its quotes, and whether it is plain: no escapes and only ASCII, so
// that its value is the text between the quotes.
func (d *jsonDecoder) scanString() (raw string, plain bool) {
	s, start := d.s, d.i
	i := start + 1
	plain = true
	for {
		// Printable ASCII other than '"' and '\\' is nearly every byte:
		// skip it eight bytes at a time, testing them together with the
		// "has a zero byte" and "has a byte less than n" word tricks, whose
		// lowest flagged byte is exactly the first special one.
		for i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			quote, backslash := x^ones*'"', x^ones*'\\'
			if m := (x | (x-ones*0x20)&^x | (quote-ones)&^quote | (backslash-ones)&^backslash) & highs; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c-0x20 < 0x60 && c != '"' && c != '\\' {
			i++
			continue
		}
		switch {
		case c == '"':
			d.i = i + 1
			return s[start:d.i], plain
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				d.fail()
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					d.fail()
					return "", false
				}
				i += 6
			default:
				d.fail()
				return "", false
			}
		case c < 0x20:
			d.fail()
			return "", false
		default: // >= 0x80
			plain = false
			i++
		}
	}
	d.fail()
	return "", false
}

// Bytes repeated across a word, for scanString.
const ones, highs = 0x0101010101010101, 0x8080808080808080

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// stringValue is the Go value of a scanned string. Strings with escapes or
// invalid UTF-8 are left to encoding/json, whose unescaping (surrogates,
// U+FFFD for bad bytes) is the reference.
func stringValue(raw string, plain bool) string {
	inner := raw[1 : len(raw)-1]
	if plain || !strings.Contains(inner, `\`) && utf8.ValidString(inner) {
		return inner
	}
	var s string
	// raw was validated by scanString, so this cannot fail.
	_ = json.Unmarshal([]byte(raw), &s)
	return s
}

// scanNumber consumes a number with RFC 8259's grammar and returns it. The
// caller has seen '-' or a digit.
func (d *jsonDecoder) scanNumber() string {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && '1' <= d.s[d.i] && d.s[d.i] <= '9':
		d.digits()
	default:
		d.fail()
		return ""
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if !d.digits() {
			d.fail()
			return ""
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			d.fail()
			return ""
		}
	}
	return d.s[start:d.i]
}

func (d *jsonDecoder) digits() bool {
	start := d.i
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// literal consumes true, false or null and returns its first byte.
func (d *jsonDecoder) literal() byte {
	c := d.s[d.i]
	var want string
	switch c {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	default:
		want = "null"
	}
	if !strings.HasPrefix(d.s[d.i:], want) {
		d.fail()
		return 0
	}
	d.i += len(want)
	return c
}

// null consumes a null if one comes next.
func (d *jsonDecoder) null() bool {
	if d.peek() == 'n' && strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return true
	}
	return false
}

// skip consumes one value, validating it. With numbers set it also reports
// a number encoding/json could not turn into a float64 (a type error when
// decoding into any); the scan goes on.
func (d *jsonDecoder) skip(numbers bool) (numberErr bool) {
	var stackBuf [32]byte
	stack := stackBuf[:0] // '{' or '[' per open container
	for {
		// A value.
		switch c := d.peek(); {
		case c == '{':
			d.i++
			if d.peek() == '}' {
				d.i++
				break
			}
			stack = append(stack, '{')
			if !d.colonAfterKey() {
				return numberErr
			}
			continue
		case c == '[':
			d.i++
			if d.peek() == ']' {
				d.i++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			d.scanString()
		case c == 't' || c == 'f' || c == 'n':
			d.literal()
		case c == '-' || '0' <= c && c <= '9':
			n := d.scanNumber()
			if numbers && !d.failed() {
				if _, err := strconv.ParseFloat(n, 64); err != nil {
					numberErr = true
				}
			}
		default:
			d.fail()
		}
		if d.failed() {
			return numberErr
		}
		// After a value: close containers until a comma opens the next one.
		for {
			if len(stack) == 0 {
				return numberErr
			}
			top := stack[len(stack)-1]
			c := d.peek()
			if c == ',' {
				d.i++
				if top == '{' && !d.colonAfterKey() {
					return numberErr
				}
				break
			}
			if top == '{' && c == '}' || top == '[' && c == ']' {
				d.i++
				stack = stack[:len(stack)-1]
				continue
			}
			d.fail()
			return numberErr
		}
	}
}

// colonAfterKey consumes an object key and its colon, validating both.
func (d *jsonDecoder) colonAfterKey() bool {
	if d.peek() != '"' {
		d.fail()
		return false
	}
	d.scanString()
	if d.failed() || d.peek() != ':' {
		d.fail()
		return false
	}
	d.i++
	return true
}

// span consumes one value and returns its text.
func (d *jsonDecoder) span() string {
	d.peek()
	start := d.i
	d.skip(false)
	return d.s[start:d.i]
}

// openObject consumes the '{' that comes next and reports whether a member
// follows. With key and more it walks an object:
//
//	for ok := d.openObject(); ok; ok = d.more('}') {
//		key := d.key()
//		... consume the value ...
//	}
//
// Type errors do not stop the walk (encoding/json goes on after one too);
// syntax errors do.
func (d *jsonDecoder) openObject() bool {
	d.peek()
	d.i++
	if d.peek() == '}' {
		d.i++
		return false
	}
	return !d.failed()
}

// openArray consumes the '[' that comes next and reports whether an
// element follows; walk the elements with more(']').
func (d *jsonDecoder) openArray() bool {
	d.peek()
	d.i++
	if d.peek() == ']' {
		d.i++
		return false
	}
	return !d.failed()
}

// key reads a member's name (unescaped) and its colon.
func (d *jsonDecoder) key() string {
	if d.peek() != '"' {
		d.fail()
		return ""
	}
	raw, plain := d.scanString()
	if d.failed() || d.peek() != ':' {
		d.fail()
		return ""
	}
	d.i++
	return stringValue(raw, plain)
}

// more consumes what follows a member or an element: true after a comma,
// false after the closing bracket or on a syntax error.
func (d *jsonDecoder) more(closing byte) bool {
	if d.failed() {
		return false
	}
	switch d.peek() {
	case ',':
		d.i++
		return true
	case closing:
		d.i++
		return false
	}
	d.fail()
	return false
}

// typeError consumes a value of the wrong type.
func (d *jsonDecoder) typeError() error {
	d.skip(false)
	return errJSONType
}

// str decodes into a string field: null leaves it as it is.
func (d *jsonDecoder) str(dst *string) error {
	switch d.peek() {
	case '"':
		raw, plain := d.scanString()
		if !d.failed() {
			*dst = stringValue(raw, plain)
		}
		return nil
	case 'n':
		if d.null() {
			return nil
		}
	}
	return d.typeError()
}

// stringSlice decodes into a []string field the way encoding/json decodes an
// array into an existing slice: elements are decoded in place (a null
// element keeps what was there, even past the old length within its
// capacity), the slice is cut to the array's length, and an empty array
// gives an empty, non-nil slice. null sets nil.
func (d *jsonDecoder) stringSlice(dst *[]string) error {
	switch d.peek() {
	case 'n':
		if d.null() {
			*dst = nil
			return nil
		}
		return d.typeError()
	case '[':
	default:
		return d.typeError()
	}
	buf := *dst
	var firstErr error
	n := 0
	for ok := d.openArray(); ok; ok = d.more(']') {
		if n >= cap(buf) {
			// Grown storage is zeroed, as reflect's Grow leaves it.
			grown := make([]string, n, max(4, 2*cap(buf)))
			copy(grown, buf[:n])
			buf = grown
		}
		if n >= len(buf) {
			buf = buf[:n+1]
		}
		if err := d.str(&buf[n]); err != nil && firstErr == nil {
			firstErr = err
		}
		n++
	}
	if n < len(buf) {
		buf = buf[:n]
	}
	if n == 0 {
		buf = []string{}
	}
	*dst = buf
	return firstErr
}

// decodeAny decodes a value as encoding/json decodes into an interface{}:
// map[string]any, []any, string, float64, bool or nil. A number that does
// not fit a float64 is an error after the value is consumed.
func (d *jsonDecoder) decodeAny(depth int) (any, error) {
	switch c := d.peek(); {
	case c == '"':
		raw, plain := d.scanString()
		if d.failed() {
			return nil, nil
		}
		return stringValue(raw, plain), nil
	case c == '{':
		if depth >= maxAnyDepth {
			return d.anyByEncodingJSON()
		}
		m := make(map[string]any)
		var firstErr error
		for ok := d.openObject(); ok; ok = d.more('}') {
			key := d.key()
			v, err := d.decodeAny(depth + 1)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			m[key] = v
		}
		return m, firstErr
	case c == '[':
		if depth >= maxAnyDepth {
			return d.anyByEncodingJSON()
		}
		a := make([]any, 0, 4)
		var firstErr error
		for ok := d.openArray(); ok; ok = d.more(']') {
			v, err := d.decodeAny(depth + 1)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			a = append(a, v)
		}
		return a, firstErr
	case c == 't' || c == 'f' || c == 'n':
		switch d.literal() {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
		return nil, nil
	case c == '-' || '0' <= c && c <= '9':
		n := d.scanNumber()
		if d.failed() {
			return nil, nil
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return nil, errJSONNumber
		}
		return f, nil
	default:
		d.fail()
		return nil, nil
	}
}

// anyByEncodingJSON validates a deeply nested value without recursion, then
// lets encoding/json decode it.
func (d *jsonDecoder) anyByEncodingJSON() (any, error) {
	raw := d.span()
	if d.failed() {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, err //nolint:wrapcheck // a claim error, wrapped by the caller
	}
	return v, nil
}

// foldMatch finds key among a struct's JSON field names as encoding/json
// does: an exact match first, then a case-insensitive one (Unicode simple
// folding, as bytes.EqualFold). It returns -1 when none matches.
func foldMatch(key string, names ...string) int {
	for i, n := range names {
		if key == n {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(key, n) {
			return i
		}
	}
	return -1
}
