package telex

import (
	"strings"
	"testing"
)

// benchKeys is an address line as a citizen types it in Telex, 84 keys.
const benchKeys = "Nguyeenx Thij Huwowngf, soos 12 dduwowngf Lee Lowij, phuwowngf Beens Nghes, quaanj 1"

// BenchmarkKey measures what an entry pays per key: Key re-composes the
// word and returns the whole text of the field, as the UI shows it.
func BenchmarkKey(b *testing.B) {
	b.ReportAllocs()
	keys := []rune(benchKeys)
	var c Composer
	for b.Loop() {
		c.Reset()
		for _, r := range keys {
			c.Key(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}

// BenchmarkConvertLong converts 100 copies of the address line (8,500
// keys) in one go: the cost per key stays that of a short text.
func BenchmarkConvertLong(b *testing.B) {
	b.ReportAllocs()
	keys := strings.Repeat(benchKeys+" ", 100)
	n := len([]rune(keys))
	for b.Loop() {
		Convert(keys, StyleClassic)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}
