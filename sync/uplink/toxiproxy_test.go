package uplink

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// throughToxiproxy puts a real toxiproxy proxy between the worker and the
// rig's portal, with the given toxics (toxiproxy's JSON), and returns a
// worker that talks through it.
func (r *rig) throughToxiproxy(toxics ...string) (*Worker, *toxiproxy.Proxy) {
	r.t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	upstream, _ := url.Parse(r.srv.URL)
	proxy := toxiproxy.NewProxy(server, "portal", "127.0.0.1:0", upstream.Host)
	if err := proxy.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(proxy.Stop)
	for _, tx := range toxics {
		if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(tx)); err != nil {
			r.t.Fatalf("toxic %s: %v", tx, err)
		}
	}
	w, err := New(Config{Portal: "http://" + proxy.Listen, Store: r.store, StallTimeout: 2 * time.Second,
		ProbeInterval: 200 * time.Millisecond, MaxBackoff: 2 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	return w, proxy
}

// TestWeakLinks delivers applications through toxiproxy under each fault
// the issue names. Afterwards each application is received exactly once,
// every attachment is byte-identical at the portal, and the local states
// equal the portal's.
func TestWeakLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: real network faults")
	}
	tests := []struct {
		name   string
		sizes  [][]int
		toxics []string
		// liftAfter, when set, removes every toxic after that long: the
		// link is dead, then comes back.
		liftAfter time.Duration
		// minConns is the fewest TCP connections the fault must cause.
		minConns int64
	}{
		{"bandwidth 4 KB/s and latency 500 ms", [][]int{{12 << 10}, {8 << 10}}, []string{
			`{"name":"bw","type":"bandwidth","stream":"upstream","attributes":{"rate":4}}`,
			`{"name":"lat","type":"latency","stream":"downstream","attributes":{"latency":500}}`,
		}, 0, 1},
		{"connections cut after 64 KB (limit_data)", [][]int{{150 << 10}, {100 << 10, 40 << 10}}, []string{
			`{"name":"cut","type":"limit_data","stream":"upstream","attributes":{"bytes":65536}}`,
		}, 0, 5},
		{"reset_peer until the link recovers", [][]int{{60 << 10}, {30 << 10}}, []string{
			`{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":10}}`,
		}, 2 * time.Second, 3},
		{"timeout: connections hang until the link recovers", [][]int{{40 << 10}, {20 << 10}}, []string{
			`{"name":"hang","type":"timeout","stream":"upstream","attributes":{"timeout":0}}`,
		}, 3 * time.Second, 2},
		{"slicer: data in small delayed pieces", [][]int{{50 << 10}, {5 << 10}}, []string{
			`{"name":"slice","type":"slicer","stream":"upstream","attributes":{"average_size":700,"size_variation":500,"delay":2000}}`,
			`{"name":"slice2","type":"slicer","stream":"downstream","attributes":{"average_size":50,"size_variation":40,"delay":1000}}`,
		}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			var cuts, received atomic.Int64
			r.setFault(cutAfter(r.portal.Handler(), 1<<40, &cuts, &received))
			payload := 0
			for i, sizes := range tt.sizes {
				r.queue(fmt.Sprintf("key-weak-%04d", i), sizes...)
				for _, n := range sizes {
					payload += n
				}
			}
			w, proxy := r.throughToxiproxy(tt.toxics...)
			if tt.liftAfter > 0 {
				go func() {
					time.Sleep(tt.liftAfter)
					for _, tx := range tt.toxics {
						name := strings.SplitN(strings.SplitN(tx, `"name":"`, 2)[1], `"`, 2)[0]
						proxy.Toxics.RemoveToxic(context.Background(), name)
					}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			start := time.Now()
			sum, err := w.Once(ctx)
			if err != nil || sum.Remaining != 0 {
				t.Fatalf("Once = %+v, %v", sum, err)
			}
			took := time.Since(start)
			r.checkExactlyOnce()
			ratio := float64(received.Load()) / float64(payload)
			t.Logf("%d bytes in %v over %d connections; the portal received %.3f x the payload",
				payload, took.Round(time.Millisecond), r.conns.Load(), ratio)
			if r.conns.Load() < tt.minConns {
				t.Errorf("%d connections: the fault did not bite (want at least %d)", r.conns.Load(), tt.minConns)
			}
			if tt.liftAfter > 0 && took < tt.liftAfter {
				t.Errorf("delivered in %v through a link dead for %v", took, tt.liftAfter)
			}
			// Resuming from the portal's offset means bytes cross at most
			// once, but for those in flight when a hung or reset
			// connection is abandoned.
			if ratio > 1.5 {
				t.Errorf("the portal received %.3f x the payload", ratio)
			}
		})
	}
}
