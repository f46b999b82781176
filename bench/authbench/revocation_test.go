package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRevocationVerdict(t *testing.T) {
	micro := []byte(`pkg: github.com/authsvc/authsvc/internal/revocation
BenchmarkCrossReplicaRevocation-2   	   10000	    184773 ns/op	        49.53 max-ms	         0.03180 p50-ms	         4.175 p99-ms
BenchmarkCrossReplicaRevocation-2   	   9000	    184773 ns/op	        12 max-ms	         0.04 p50-ms	         7.5 p99-ms	  3 revoke-errors
BenchmarkChain/unary-2 	 1000	 1000 ns/op
`)
	v := revocationVerdict(micro)
	assert.Equal(t, met, v.Result)
	assert.Equal(t, "p50 0.040 ms, p99 7.500 ms, max 12.000 ms over 8997 revocations (BenchmarkCrossReplicaRevocation, the worst p99 of 2 runs); 3 more that replica A could not write to Redis are not counted", v.Measured)

	v = revocationVerdict([]byte("BenchmarkCrossReplicaRevocation 100 1 ns/op 80 max-ms 1 p50-ms 60.5 p99-ms\n"))
	assert.Equal(t, missed("by 10.5 ms"), v.Result)

	assert.Equal(t, notMeasured, revocationVerdict(nil).Result)
	assert.Equal(t, notMeasured, revocationVerdict([]byte("(./internal/revocation/: benchmarks did not run)\n")).Result,
		"a run without the metrics is not measured")
}
