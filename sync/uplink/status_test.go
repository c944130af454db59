package uplink

import (
	"context"
	"net/http"
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

// collect receives a subscription's Uplink events until stop is closed
// and the channel has nothing more.
func collect(ch <-chan status.Event) chan []status.Uplink {
	out := make(chan []status.Uplink, 1)
	go func() {
		var got []status.Uplink
		for e := range ch {
			if u, ok := e.(status.Uplink); ok {
				got = append(got, u)
			}
		}
		out <- got
	}()
	return out
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
	got := collect(ch)
	w := r.statusWorker(hub)
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
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
	if !sawWaiting {
		t.Errorf("no event showed the application waiting (1, %d bytes)", total)
	}
	if len(sends) < 3 || sends[0].Sent >= sends[len(sends)-1].Sent || sends[len(sends)-1].Sent != total {
		t.Fatalf("sending progress seen: %+v; want it growing to %d", sends, total)
	}
	// Not per write: a 4 MB application is published in at most about
	// a hundred steps.
	if len(sends) > 110 {
		t.Errorf("%d progress events for one application: too fine", len(sends))
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
