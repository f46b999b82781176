package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1) // 1..100 ms
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", []time.Duration{ms(7)}, 99, ms(7)},
		{"p50 of 1..100 is the 50th", hundred, 50, ms(50)},
		{"p99 of 1..100 is the 99th", hundred, 99, ms(99)},
		{"p100 is the max", hundred, 100, ms(100)},
		{"nearest rank rounds up", []time.Duration{ms(1), ms(2), ms(3)}, 50, ms(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarizeSortsAndCounts(t *testing.T) {
	l := summarize([]time.Duration{3, 1, 2}, 1, "boom")
	assert.Equal(t, Latencies{Count: 3, Errors: 1, FirstError: "boom", P50: 2, P95: 3, P99: 3, Max: 3}, l)
}

// A trimmed ghz v0.120.0 JSON report (durations in nanoseconds).
const ghzJSON = `{
  "date": "2026-11-22T03:07:43Z", "count": 2000, "total": 444000000, "average": 7000000,
  "fastest": 100000, "slowest": 34100000, "rps": 4504.5,
  "errorDistribution": {"rpc error: code = Unavailable desc = x": 2},
  "statusCodeDistribution": {"OK": 1998, "Unavailable": 2},
  "latencyDistribution": [
    {"percentage": 10, "latency": 1000000}, {"percentage": 50, "latency": 7670000},
    {"percentage": 95, "latency": 25400000}, {"percentage": 99, "latency": 34100000}
  ],
  "details": [{"timestamp": "2026-11-22T03:07:43Z", "latency": 100000, "error": "", "status": "OK"}]
}`

func TestParseGHZ(t *testing.T) {
	l, rps, err := parseGHZ([]byte(ghzJSON))
	require.NoError(t, err)
	assert.InDelta(t, 4504.5, rps, 0.001)
	assert.Equal(t, Latencies{
		Count: 2000, Errors: 2, FirstError: "rpc error: code = Unavailable desc = x",
		P50: 7670 * time.Microsecond, P95: 25400 * time.Microsecond, P99: 34100 * time.Microsecond, Max: 34100 * time.Microsecond,
	}, l)

	_, _, err = parseGHZ([]byte(`{"count": 5, "rps": 1}`))
	require.Error(t, err, "a report with requests but no distribution is refused")
	_, _, err = parseGHZ([]byte(`not json`))
	require.Error(t, err)
}

// hey 0.1.4's text output (Debian), trimmed; its template prints "%%" literally in some builds.
const heyOut = `
Summary:
  Total:	1.0668 secs
  Slowest:	0.0910 secs
  Fastest:	0.0003 secs
  Average:	0.0264 secs
  Requests/sec:	1874.7590
  
  Total data:	1486000 bytes
  Size/request:	743 bytes

Response time histogram:
  0.000 [1]	|
  0.009 [421]	|■■■■■■■■■■■■■■■■■■■■■■■

Latency distribution:
  10%% in 0.0041 secs
  50%% in 0.0219 secs
  95%% in 0.0609 secs
  99%% in 0.0910 secs

Details (average, fastest, slowest):
  DNS+dialup:	0.0006 secs, 0.0003 secs, 0.0910 secs
  req write:	0.0000 secs, 0.0000 secs, 0.0012 secs

Status code distribution:
  [200]	1995 responses
  [429]	3 responses

Error distribution:
  [2]	Post "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused
`

func TestParseHey(t *testing.T) {
	l, rps, err := parseHey(heyOut)
	require.NoError(t, err)
	assert.InDelta(t, 1874.759, rps, 0.001)
	assert.Equal(t, 2000, l.Count, "responses plus transport errors")
	assert.Equal(t, 5, l.Errors, "non-2xx responses and transport errors")
	assert.Equal(t, "HTTP 429", l.FirstError)
	assert.Equal(t, 21900*time.Microsecond, l.P50)
	assert.Equal(t, 60900*time.Microsecond, l.P95)
	assert.Equal(t, 91*time.Millisecond, l.P99)

	single := strings.ReplaceAll(heyOut, "%%", "%")
	l2, _, err := parseHey(single)
	require.NoError(t, err)
	assert.Equal(t, l.P99, l2.P99, "a single % parses the same")

	_, _, err = parseHey("hey: connection refused\n")
	require.Error(t, err)
}

func TestParseVmRSS(t *testing.T) {
	v, err := parseVmRSS(strings.NewReader("Name:\tauthsvc\nVmPeak:\t 999 kB\nVmRSS:\t   43712 kB\nThreads:\t7\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(43712*1024), v)
	_, err = parseVmRSS(strings.NewReader("Name:\tkthreadd\n"))
	require.Error(t, err)
}

func TestParseGoroutineTotal(t *testing.T) {
	n, err := parseGoroutineTotal("goroutine profile: total 65\n")
	require.NoError(t, err)
	assert.Equal(t, 65, n)
	_, err = parseGoroutineTotal("<html>404</html>")
	require.Error(t, err)
}

func TestProcReadersOnThisProcess(t *testing.T) {
	rss, err := rssBytes(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	_, err = cpuTicks(os.Getpid())
	require.NoError(t, err)
}

func TestDriveStopsAtTheCountAndClassifies(t *testing.T) {
	calls := make([]int, 2)
	res := drive(context.Background(), driveSpec{
		Concurrency: 1, Total: 10, MaxDuration: time.Minute,
		ClassOf: func(i int64) int { return int(i % 2) },
		Ops: []op{
			func(context.Context, int64) error { calls[0]++; return nil },
			func(context.Context, int64) error { calls[1]++; return assert.AnError },
		},
	})
	assert.Equal(t, []int{5, 5}, calls)
	assert.Equal(t, 10, res.All.Count)
	assert.Equal(t, 5, res.All.Errors)
	assert.Equal(t, 0, res.Classes[0].Errors)
	assert.Equal(t, 5, res.Classes[1].Errors)
	assert.Equal(t, assert.AnError.Error(), res.Classes[1].FirstError)
}

func TestSummarizeGoroutines(t *testing.T) {
	prof := "goroutine profile: total 3\n" +
		"2 @ 0x48d7ee 0x41c66e 0x495381\n" +
		"#\t0x48d7ed\truntime.gopark+0xcd\t/usr/lib/go/src/runtime/proc.go:435\n" +
		"#\t0x6dc7dc\tnet/http.(*persistConn).writeLoop+0xfc\t/usr/lib/go/src/net/http/transport.go:2600\n" +
		"\n" +
		"1 @ 0x48d7ee 0x495381\n" +
		"#\t0x48d7ed\truntime.gopark+0xcd\t/usr/lib/go/src/runtime/proc.go:435\n" +
		"#\t0x13e42b7\tgithub.com/authsvc/authsvc/internal/stytchclient/verify.(*JWKSCache).run+0x97\t/x/jwks.go:1\n"
	path := t.TempDir() + "/g.txt"
	require.NoError(t, os.WriteFile(path, []byte(prof), 0o600))
	assert.Equal(t, "2× net/http.(*persistConn).writeLoop, 1× github.com/authsvc/authsvc/internal/stytchclient/verify.(*JWKSCache).run", summarizeGoroutines(path))
}
