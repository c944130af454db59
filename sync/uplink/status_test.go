package uplink

import (
	"context"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/status"
)

// statusWorker is the rig's worker publishing to hub.
func (r *rig) statusWorker(hub *status.Hub) *Worker {
	w, err := New(Config{Portal: r.srv.URL, Store: r.store, StallTimeout: 5 * time.Second, Now: r.now, Status: hub,
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.advance(d)
			return ctx.Err()
		}})
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// progressGate makes a subscriber see an upload's progress however fast
// the link: every gateBytes a connection writes, the write waits until the
// subscriber has seen a Sending further than at the last gate. The worker
// publishes every hundredth of an application, far less than gateBytes, so
// a new one is always on its way.
type progressGate struct {
	t       *testing.T
	mu      sync.Mutex
	maxSeen int64 // the furthest Sent the subscriber has received
	atGate  int64 // maxSeen when the last gate opened
	seen    chan struct{}
	waits   int
}

const gateBytes = 512 << 10

func newProgressGate(t *testing.T) *progressGate {
	return &progressGate{t: t, seen: make(chan struct{}, 1)}
}

// saw records a Sending the subscriber received.
func (g *progressGate) saw(s *status.Sending) {
	g.mu.Lock()
	g.maxSeen = max(g.maxSeen, s.Sent)
	g.mu.Unlock()
	select {
	case g.seen <- struct{}{}:
	default:
	}
}

// wait blocks until the subscriber has seen progress past the last gate.
// A minute without it means the worker stopped publishing: the test fails
// rather than hangs.
func (g *progressGate) wait() {
	give := time.NewTimer(time.Minute)
	defer give.Stop()
	for {
		g.mu.Lock()
		if g.maxSeen > g.atGate {
			g.atGate = g.maxSeen
			g.waits++
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		select {
		case <-g.seen:
		case <-give.C:
			g.t.Error("the subscriber saw no new progress for a minute")
			return
		}
	}
}

// client returns an HTTP client whose connections wait at the gate.
func (g *progressGate) client() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &gatedConn{Conn: c, g: g}, nil
	}}}
}

type gatedConn struct {
	net.Conn
	g       *progressGate
	written int64
}

func (c *gatedConn) Write(b []byte) (int, error) {
	before := c.written
	n, err := c.Conn.Write(b)
	c.written += int64(n)
	if c.written/gateBytes > before/gateBytes {
		c.g.wait()
	}
	return n, err
}

// TestStatusShowsSendingProgressThenOnlineWithNothingWaiting delivers an
// application of 4 MB to a real portal: a subscriber sees it waiting, then
// being sent with growing progress, and at the end the portal online with
// nothing waiting and nothing in flight.
func TestStatusShowsSendingProgressThenOnlineWithNothingWaiting(t *testing.T) {
	r := newRig(t)
	a := r.queue("key-status-0001", 2<<20, 2<<20)
	hub := status.NewHub()
	ch, cancel := hub.Subscribe()
	gate := newProgressGate(t)
	got := make(chan []status.Uplink, 1)
	// returned is closed once Once has returned. The subscriber stops
	// reading from the end of the transfer until then, as a screen busy
	// drawing does: the worker's last events of the pass are then still
	// on their way to it when Once returns, and the subscription must not
	// be cancelled before they arrive (the hub drops what a cancelled
	// subscriber had not taken). final is the hub's state once Once has
	// returned; reached is closed when the subscriber has seen it.
	returned, reached := make(chan struct{}), make(chan struct{})
	var final status.Uplink
	go func() {
		var events []status.Uplink
		sending, seenFinal := false, false
		for e := range ch {
			if u, ok := e.(status.Uplink); ok {
				events = append(events, u)
				if u.Sending != nil {
					sending = true
					gate.saw(u.Sending)
				} else if sending {
					sending = false
					<-returned
				}
				select {
				case <-returned:
					if !seenFinal && reflect.DeepEqual(u, final) {
						seenFinal = true
						close(reached)
					}
				default:
				}
			}
		}
		got <- events
	}()
	w, err := New(Config{Portal: r.srv.URL, Store: r.store, StallTimeout: 5 * time.Second, Now: r.now, Status: hub,
		Client: gate.client(), Sleep: func(ctx context.Context, d time.Duration) error {
			r.advance(d)
			return ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	final = hub.Snapshot().Uplink
	close(returned)
	select {
	case <-reached:
	case <-time.After(guard):
		t.Errorf("the subscriber never saw the hub's state after the pass, %+v", final)
	}
	cancel()
	events := <-got

	var total int64 = 4 << 20
	var sends []status.Sending
	sawWaiting := false
	for _, u := range events {
		if u.Waiting == 1 && u.WaitingBytes == total {
			sawWaiting = true
		}
		if u.Sending != nil {
			if u.Sending.ID != a.ID || u.Sending.Total != total {
				t.Fatalf("sending %+v, want application %d of %d bytes", *u.Sending, a.ID, total)
			}
			if n := len(sends); n > 0 && u.Sending.Sent < sends[n-1].Sent {
				t.Fatalf("progress went back: %d after %d", u.Sending.Sent, sends[n-1].Sent)
			}
			sends = append(sends, *u.Sending)
		}
	}
	t.Logf("%d Uplink events seen, %d of them with progress, for one application of %d bytes; %d gates", len(events), len(sends), total, gate.waits)
	if !sawWaiting {
		t.Errorf("no event showed the application waiting (1, %d bytes)", total)
	}
	// Each gate saw a further Sent: 4 MB through 512 KB gates is 8.
	if gate.waits < 7 || len(sends) < gate.waits || sends[len(sends)-1].Sent != total {
		t.Fatalf("sending progress seen: %+v after %d gates; want it growing to %d", sends, gate.waits, total)
	}
	last := events[len(events)-1]
	if !last.Online || last.Waiting != 0 || last.WaitingBytes != 0 || last.Sending != nil || !last.Problem.IsZero() ||
		!last.LastContact.Equal(r.now()) {
		t.Fatalf("last status %+v, want online, contact at %v, nothing waiting or in flight", last, r.now())
	}
	if snap := hub.Snapshot().Uplink; snap.Waiting != 0 || !snap.Online {
		t.Fatalf("snapshot %+v", snap)
	}
}

// TestProgressIsPublishedInStepsNotPerWrite: a 4 MB application is
// published in about a hundred steps, however many reads carry it.
func TestProgressIsPublishedInStepsNotPerWrite(t *testing.T) {
	r := newRig(t)
	r.queue("key-status-0004", 2<<20, 2<<20)
	rec := &recorder{}
	w, err := New(Config{Portal: r.srv.URL, Store: r.store, Now: r.now, Status: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range rec.all() {
		if u.Sending != nil {
			n++
		}
	}
	t.Logf("%d progress events for one application of 4 MB", n)
	// 4 MB in 16 KB reads would be 256 events.
	if n < 50 || n > 110 {
		t.Fatalf("%d progress events for 4 MB; want about 100 (a hundredth each)", n)
	}
}

// recorder is a Publisher that keeps every Uplink, for counting.
type recorder struct {
	mu sync.Mutex
	us []status.Uplink
}

func (r *recorder) Publish(e status.Event) {
	if u, ok := e.(status.Uplink); ok {
		r.mu.Lock()
		r.us = append(r.us, u)
		r.mu.Unlock()
	}
}

func (r *recorder) all() []status.Uplink {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]status.Uplink(nil), r.us...)
}

// TestStatusShowsThePortalUnreachable: with the portal down, the status
// says so in plain words, with the application still waiting; when it is
// back, online again.
func TestStatusShowsThePortalUnreachable(t *testing.T) {
	r := newRig(t)
	r.queue("key-status-0002", 10<<10)
	hub := status.NewHub()
	w := r.statusWorker(hub)
	r.srv.CloseClientConnections()
	r.srv.Listener.Close()
	_, err := w.Pass(context.Background())
	if err == nil {
		t.Fatal("a pass with the portal down succeeded")
	}
	u := hub.Snapshot().Uplink
	if u.Online || u.Problem != ProblemUnreachable || u.Problem.VI == "" || u.Waiting != 1 || !u.LastContact.IsZero() {
		t.Fatalf("status with the portal down: %+v", u)
	}
}

// TestStatusShowsThePortalBusy: a 503 from the portal is not the portal
// at work.
func TestStatusShowsThePortalBusy(t *testing.T) {
	r := newRig(t)
	r.queue("key-status-0003", 10<<10)
	hub := status.NewHub()
	w := r.statusWorker(hub)
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return true
	})
	if _, err := w.Pass(context.Background()); err == nil {
		t.Fatal("a pass against a 503 succeeded")
	}
	if u := hub.Snapshot().Uplink; u.Online || u.Problem != ProblemPortalBusy || u.Waiting != 1 {
		t.Fatalf("status with the portal answering 503: %+v", u)
	}
	r.setFault(nil)
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := hub.Snapshot().Uplink; !u.Online || !u.Problem.IsZero() || u.Waiting != 0 {
		t.Fatalf("status once the portal is back: %+v", u)
	}
}
