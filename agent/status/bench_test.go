package status

import (
	"fmt"
	"testing"
)

// BenchmarkPublish measures a publish to a hub with subscribers that
// read everything they are given (the kiosk's screens).
func BenchmarkPublish(b *testing.B) {
	for _, subs := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			h := NewHub()
			for range subs {
				ch, cancel := h.Subscribe()
				defer cancel()
				go func() {
					for range ch {
					}
				}()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.Publish(Uplink{Online: true, Waiting: i, Sending: &Sending{ID: 1, Sent: int64(i), Total: 1 << 20}})
			}
		})
	}
}
