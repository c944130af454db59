package uplink

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// TestDeliversThroughServedPortalUnderItsCaps pins the portal as `motcua
// run` embeds it, served by portal.Serve with its connection caps and
// timeouts on 127.0.0.1, and the kiosk's own worker with its default HTTP
// client: the worker needs one connection at a time, so even caps of two
// connections (one, and one for a connection the portal has not yet
// counted closed) refuse none of its connections and deliver everything.
func TestDeliversThroughServedPortalUnderItsCaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := portal.Open(ctx, portal.Config{OpenEnrollment: true, DataDir: t.TempDir(), MaxConnsPerAddr: 2, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
		p.Close()
	})
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, portal: p, store: st, clock: time.Now()}
	for i, sizes := range [][]int{nil, {20 << 10}, {300 << 10, 200 << 10}, {1 << 20}} {
		r.queue("key-served-000"+string(rune('0'+i)), sizes...)
	}
	w, err := New(Config{Portal: "http://" + ln.Addr().String(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	if sum, err := w.Once(wctx); err != nil || sum.Delivered != 4 || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if n := p.RefusedConns(); n != 0 {
		t.Errorf("the portal refused %d of the worker's connections", n)
	}
	r.checkExactlyOnce()
}
