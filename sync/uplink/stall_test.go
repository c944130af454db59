package uplink

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/agent/store"
)

// fakePortal is an http.RoundTripper that reads an upload's body the way
// read says, in memory, so a synctest bubble sees it block durably. It
// answers 204 with the offset it read.
type fakePortal struct {
	read func(req *http.Request) (int64, error)
}

func (f fakePortal) RoundTrip(req *http.Request) (*http.Response, error) {
	n, err := f.read(req)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Upload-Offset", strconv.FormatInt(n, 10))
	return &http.Response{StatusCode: http.StatusNoContent, Header: h, Body: http.NoBody, Request: req}, nil
}

func stallWorker(t *testing.T, timeout time.Duration, read func(*http.Request) (int64, error)) *Worker {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := New(Config{Portal: "http://127.0.0.1:1", Store: st, StallTimeout: timeout,
		Client: &http.Client{Transport: fakePortal{read: read}}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestStallWatchdogCancelsAfterExactlyTheTimeout pins the stall watchdog
// in fake time: a body that stops making progress is cancelled exactly the
// stall timeout after its last progress.
func TestStallWatchdogCancelsAfterExactlyTheTimeout(t *testing.T) {
	const timeout = 30 * time.Second
	for _, progressFor := range []time.Duration{0, 7 * time.Second, 45 * time.Second} {
		t.Run(progressFor.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var lastProgress time.Time
				w := stallWorker(t, timeout, func(req *http.Request) (int64, error) {
					// Read a byte every second for progressFor, then nothing.
					var n int64
					b := make([]byte, 1)
					for deadline := time.Now().Add(progressFor); ; {
						k, err := req.Body.Read(b)
						n += int64(k)
						lastProgress = time.Now()
						if err != nil || !time.Now().Before(deadline) {
							break
						}
						time.Sleep(time.Second)
					}
					<-req.Context().Done()
					return n, req.Context().Err()
				})
				_, err := w.transfer(context.Background(), http.MethodPatch, "http://127.0.0.1:1/v1/uploads/x", 0,
					[]byte(strings.Repeat("x", 1000)), nil)
				var le *linkError
				if !errors.Is(err, errStalled) || !errors.As(err, &le) {
					t.Fatalf("transfer = %v; want a stall, as a link error", err)
				}
				if idle := time.Since(lastProgress); idle != timeout {
					t.Errorf("cancelled %v after the last progress; want exactly %v", idle, timeout)
				}
			})
		})
	}
}

// TestStallWatchdogSparesATrickle pins a body that trickles, a byte just
// inside each stall timeout for many timeouts: it is never cancelled.
func TestStallWatchdogSparesATrickle(t *testing.T) {
	const timeout = 30 * time.Second
	synctest.Test(t, func(t *testing.T) {
		content := []byte("a trickle of bytes")
		w := stallWorker(t, timeout, func(req *http.Request) (int64, error) {
			var n int64
			b := make([]byte, 1)
			for {
				time.Sleep(timeout - time.Millisecond)
				k, err := req.Body.Read(b)
				n += int64(k)
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, err
				}
			}
		})
		start := time.Now()
		got, err := w.transfer(context.Background(), http.MethodPatch, "http://127.0.0.1:1/v1/uploads/x", 0, content, nil)
		if err != nil || got.offset != int64(len(content)) {
			t.Fatalf("transfer = %+v, %v after %v; want the whole trickle through", got, err, time.Since(start))
		}
		if took := time.Since(start); took < time.Duration(len(content))*(timeout-time.Millisecond) {
			t.Errorf("the trickle took %v: it did not trickle", took)
		}
	})
}
