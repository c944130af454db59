// Package datasize reads byte counts as people write them for data plans.
package datasize

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a byte count such as "500000", "800KB" or "50MB" (powers of
// 1000, as mobile data plans count).
func Parse(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 50MB, 800KB or 500000", s)
	}
	return n * mult, nil
}
