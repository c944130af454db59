package uplink

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"3600", time.Hour},
		{"3601", MaxRetryAfter},
		{"99999999999999999999999", MaxRetryAfter},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"Mon, 23 Nov 2026 10:05:00 GMT", 5 * time.Minute},
		{"Monday, 23-Nov-26 10:05:00 GMT", 5 * time.Minute}, // RFC 850
		{"Mon Nov 23 10:05:00 2026", 5 * time.Minute},       // asctime
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestRetryAfterHoldsOneApplicationOthersGoOn pins a 429 with Retry-After
// to one application's delivery: that application waits (the date form,
// read against the worker's clock), and the others are delivered meanwhile,
// in the same pass and in the next ones.
func TestRetryAfterHoldsOneApplicationOthersGoOn(t *testing.T) {
	r := newRig(t)
	const key = "key-busy-0001"
	busy := r.queue(key) // the smallest: it goes first
	other := r.queue("key-other-0001", 8<<10)
	var refusedAt atomic.Int64
	var asked atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if !concerns(req, key) {
			return false
		}
		asked.Add(1)
		if refusedAt.Load() == 0 {
			return false
		}
		w.Header().Set("Retry-After", r.now().Add(30*time.Minute).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"rate_limited","message":"too many filings from this device"}`))
		return true
	})
	refusedAt.Store(1)
	w := r.worker()
	sum, err := w.Pass(context.Background())
	if err == nil || sum.Delivered != 1 || sum.Held != 1 {
		t.Fatalf("first pass = %+v, %v; want the other delivered and one held", sum, err)
	}
	if got, _ := r.store.Get(context.Background(), other.ID); got.State != application.Received {
		t.Fatalf("the other application is %s while one waits out its Retry-After", got.State)
	}
	got, _ := r.store.Get(context.Background(), busy.ID)
	if got.State != application.Queued || !strings.Contains(got.LastError, "429") {
		t.Fatalf("held application: %s %q", got.State, got.LastError)
	}
	// While it waits, new applications are delivered and it is not asked.
	third := r.queue("key-third-0001", 1<<10)
	r.advance(29 * time.Minute)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 || sum.Held != 1 {
		t.Fatalf("second pass = %+v, %v", sum, err)
	}
	if got, _ := r.store.Get(context.Background(), third.ID); got.State != application.Received {
		t.Fatalf("a new application is %s while one waits", got.State)
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the portal was asked %d times about the held application before its Retry-After", n)
	}
	// Once its time is up, it goes.
	r.setFault(nil)
	r.advance(2 * time.Minute)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 || sum.Held != 0 {
		t.Fatalf("third pass = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// TestRetryAfterIsCapped pins a portal-wide 503 with a huge Retry-After:
// the worker waits at most MaxRetryAfter, then delivers.
func TestRetryAfterIsCapped(t *testing.T) {
	for _, h := range []string{"31536000", "Fri, 01 Jan 2100 00:00:00 GMT"} {
		t.Run(h, func(t *testing.T) {
			r := newRig(t)
			r.queue("key-capped-001", 1<<10)
			var busy atomic.Int64
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				if req.Method == http.MethodGet || busy.Add(1) > 1 {
					return false
				}
				w.Header().Set("Retry-After", h)
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return true
			})
			w, ctx := r.boundedWorker(10)
			if sum, err := w.Once(ctx); err != nil || sum.Delivered != 1 {
				t.Fatalf("Once = %+v, %v", sum, err)
			}
			if len(r.sleeps) == 0 {
				t.Fatal("no wait after a 503 with Retry-After")
			}
			for _, d := range r.sleeps {
				if d > MaxRetryAfter {
					t.Errorf("waited %v, more than the %v cap", d, MaxRetryAfter)
				}
			}
			if r.sleeps[0] != MaxRetryAfter {
				t.Errorf("waited %v after a Retry-After of %s, want the cap %v", r.sleeps[0], h, MaxRetryAfter)
			}
		})
	}
}

// TestHealthRetryAfterHoldsTheWholePortal pins a 503 with Retry-After from
// the health probe, after a link failure: the portal as a whole asks to
// wait, so the worker waits that long instead of probing every interval.
func TestHealthRetryAfterHoldsTheWholePortal(t *testing.T) {
	r := newRig(t)
	r.queue("key-health-001", 1<<10)
	var cut, busy atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.URL.Path == "/v1/health" && busy.Add(1) == 1:
			w.Header().Set("Retry-After", "120")
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return true
		case req.Method != http.MethodGet && cut.Add(1) == 1:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}
		return false
	})
	w, ctx := r.boundedWorker(10)
	if sum, err := w.Once(ctx); err != nil || sum.Delivered != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	var waited time.Duration
	for _, d := range r.sleeps {
		waited += d
	}
	if waited < 120*time.Second {
		t.Errorf("waited %v in all (%v) after the health check asked for 120 s", waited, r.sleeps)
	}
	r.checkExactlyOnce()
}

// TestRunDeliversOthersWhileOneWaitsOutRetryAfter pins `run` with one
// application held by a 429: the others, and one captured meanwhile, are
// delivered at once, the held one is not asked again before its time, and
// goes when its time is up.
func TestRunDeliversOthersWhileOneWaitsOutRetryAfter(t *testing.T) {
	r := newRig(t)
	const key = "key-run-busy-1"
	busy := r.queue(key)
	other := r.queue("key-run-other1", 4<<10)
	var asked atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if !concerns(req, key) || asked.Add(1) > 1 {
			return false
		}
		w.Header().Set("Retry-After", "1200") // 20 minutes
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"rate_limited","message":"slow down"}`))
		return true
	})
	start := r.now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := r.worker()
	var late *application.Application
	var heldAt20 atomic.Int64
	w.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		r.advance(d)
		waited := r.now().Sub(start)
		switch {
		case late == nil && waited > time.Minute:
			late = r.queue("key-run-late01", 2<<10) // captured meanwhile
		case waited > 19*time.Minute && heldAt20.Load() == 0:
			heldAt20.Store(asked.Load() + 1)
		case waited > 25*time.Minute:
			cancel()
		}
		return ctx.Err()
	}
	if err := w.Run(ctx, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*application.Application{busy, other, late} {
		if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
			t.Errorf("%s is %s after run", a.IdempotencyKey, got.State)
		}
	}
	if n := heldAt20.Load() - 1; n != 1 {
		t.Errorf("the held application was asked %d times before its Retry-After ended", n)
	}
	for _, d := range r.sleeps {
		if d > time.Minute {
			t.Errorf("run waited %v at once while others could go", d)
		}
	}
	r.checkExactlyOnce()
}
