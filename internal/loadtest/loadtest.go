// Package loadtest holds the pure logic of the portal's load test
// (cmd/motcua-load, built with -tags load): percentiles of the times to
// receipt, the accounting that proves no application was lost or filed
// twice, the reading of a process's CPU time and peak memory from /proc,
// and the report. The program itself starts processes and speaks the
// protocol; what it concludes is decided here, where a fast test pins it.
package loadtest

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of ds by the
// nearest-rank method: the smallest value such that at least p percent of
// the values are at or below it. It returns 0 for no values. ds is not
// changed.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 || p <= 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Latencies summarises times to receipt.
type Latencies struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Summarise returns the percentiles of ds.
func Summarise(ds []time.Duration) Latencies {
	return Latencies{N: len(ds), P50: Percentile(ds, 50), P90: Percentile(ds, 90),
		P99: Percentile(ds, 99), Max: Percentile(ds, 100)}
}
