package uplink

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// elsewhere is a second server, standing for another host: it counts the
// requests that reach it and answers every one with a receipt of its own.
func elsewhere(t *testing.T, addr string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"file_code":"000.00.99.H99-261123-0001","state":"received",` +
			`"received_at":"2026-11-23T02:00:00Z","due_at":"2026-11-26T02:00:00Z"}`))
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

// redirectTo answers every delivering request (manifests and uploads) with
// a 307 to the same path at target, which keeps the method and the body.
func redirectTo(target string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != portalapi.PathSubmissions && !strings.HasPrefix(r.URL.Path, portalapi.PathUploads) {
			return false
		}
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
		return true
	}
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	other, hits := elsewhere(t, "127.0.0.2:0")
	r := newRig(t)
	r.setFault(redirectTo(other.URL))
	plain := r.queue("key-redir-001")
	paged := r.queue("key-redir-002", 20<<10)
	sum, err := r.worker().Pass(context.Background())
	if err == nil || !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), other.URL) {
		t.Fatalf("Pass = %+v, %v; want an error naming the redirect to %s", sum, err, other.URL)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other host got %d request(s): the form left for it", n)
	}
	for _, a := range []*application.Application{plain, paged} {
		got, _ := r.store.Get(context.Background(), a.ID)
		if got.State != application.Queued || got.FileCode != "" {
			t.Errorf("%s: %s with file code %q after a redirect", a.IdempotencyKey, got.State, got.FileCode)
		}
	}
	if sum.Delivered != 0 || !strings.Contains(sum.LastError, "redirect") {
		t.Errorf("summary %+v hides the redirect", sum)
	}
	// Once the portal stops redirecting, delivery goes on.
	r.setFault(nil)
	if sum, err := r.worker().Once(context.Background()); err != nil || sum.Delivered != 2 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

func TestHTTPSPortalIsNeverDowngradedToHTTP(t *testing.T) {
	plainSrv, hits := elsewhere(t, "127.0.0.1:0")
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The same host and port, but in clear.
		http.Redirect(w, r, plainSrv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	r := newRig(t)
	a := r.queue("key-downgrade1")
	w, err := New(Config{Portal: tlsSrv.URL, Store: r.store, Client: tlsSrv.Client(),
		Sleep: func(context.Context, time.Duration) error { return context.Canceled }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Pass(context.Background())
	if err == nil || !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("Pass: %v; want an error naming the redirect to plain http", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the plain http server got %d request(s): the enrollment or the form went in clear", n)
	}
	if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Queued {
		t.Errorf("application %s after a downgrade", got.State)
	}
}
