package portal

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// servedPortal starts a real portal with cfg through Serve on a loopback
// port, as motcua portal does, and returns it and its address.
func servedPortal(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	return s, ln.Addr().String()
}

// dialFrom opens a TCP connection to addr from the loopback address from
// (all of 127.0.0.0/8 is loopback on Linux).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPortal reports whether the portal closes c: a read returns EOF
// or a reset. The deadline only keeps a failing test from hanging.
func closedByPortal(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// healthFrom asks the portal's health from the loopback address from.
func healthFrom(from, addr string) (int, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + portalapi.PathHealth)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Today 20,000 idle connections from one address exhaust the portal's file
// descriptors. Connections over the per-address cap are closed at once and
// counted, and a kiosk at another address is still served.
func TestConnectionFloodFromOneAddressLeavesOthersServed(t *testing.T) {
	s, addr := servedPortal(t, Config{OpenEnrollment: true, MaxConnsPerAddr: 8, MaxConns: 64})
	var flood []net.Conn
	for range 40 {
		flood = append(flood, dialFrom(t, "127.0.0.2", addr))
	}
	for i, c := range flood[8:] {
		if !closedByPortal(t, c) {
			t.Fatalf("connection %d from 127.0.0.2, over the cap of 8, is still open", 8+i)
		}
	}
	if code, err := healthFrom("127.0.0.3", addr); code != http.StatusOK {
		t.Fatalf("health from 127.0.0.3 during the flood: %d %v", code, err)
	}
	if got := s.RefusedConns(); got != 32 {
		t.Fatalf("refused %d connections, want 32", got)
	}
	// A closed connection frees its place, once the portal has seen it
	// close; until then a new one from 127.0.0.2 is refused.
	flood[0].Close()
	for {
		code, err := healthFrom("127.0.0.2", addr)
		if err == nil {
			if code != http.StatusOK {
				t.Fatalf("health from 127.0.0.2 after a place was freed: %d", code)
			}
			break
		}
	}
}

// The global cap holds whatever the addresses.
func TestConnectionsOverTheGlobalCapAreClosed(t *testing.T) {
	s, addr := servedPortal(t, Config{OpenEnrollment: true, MaxConnsPerAddr: 8, MaxConns: 12})
	var conns []net.Conn
	for _, from := range []string{"127.0.0.2", "127.0.0.4"} {
		for range 8 {
			conns = append(conns, dialFrom(t, from, addr))
		}
	}
	for i, c := range conns[12:] {
		if !closedByPortal(t, c) {
			t.Fatalf("connection %d, over the global cap of 12, is still open", 12+i)
		}
	}
	if got := s.RefusedConns(); got != 4 {
		t.Fatalf("refused %d connections, want 4", got)
	}
}

// Headers and request bodies outside uploads are bounded: an oversized
// header gets 431 and an oversized body 413, before the portal holds them.
func TestOversizedHeaderAndBodyAreRefused(t *testing.T) {
	_, addr := servedPortal(t, Config{OpenEnrollment: true})
	req, _ := http.NewRequest("GET", "http://"+addr+portalapi.PathHealth, nil)
	req.Header.Set("X-Padding", strings.Repeat("a", MaxHeaderBytes+8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("header over %d bytes: %d, want 431", MaxHeaderBytes, resp.StatusCode)
	}
	body := `{"device_name":"` + strings.Repeat("a", MaxRequestBody) + `"}`
	resp, err = http.Post("http://"+addr+portalapi.PathEnroll, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("body over %d bytes: %d, want 413", MaxRequestBody, resp.StatusCode)
	}
}
