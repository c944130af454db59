//go:build load

package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runProxy is `motcua-load proxy --listen ADDR --backend URL...`: a
// round-robin reverse proxy, request by request, in a process of its own
// so that its CPU is counted apart from the portals' and the kiosks'.
//
// It connects to the portals from the address the request came from (on
// loopback, where any 127/8 address is this machine's), as a transparent
// proxy does: each portal then sees each kiosk's own address and applies
// its per-address limits to the kiosk, not to the proxy. The Host header
// is kept, so the upload URLs a portal builds point through the proxy.
func runProxy(args []string) int {
	fs := flag.NewFlagSet("motcua-load proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:8780", "address to serve on")
	var backends multiFlag
	fs.Var(&backends, "backend", "a portal's base URL (repeatable)")
	fs.Parse(args)
	if len(backends) == 0 {
		fmt.Fprintln(os.Stderr, "motcua-load proxy: no --backend")
		return 2
	}
	var targets []*url.URL
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "motcua-load proxy: --backend %q: %v\n", b, err)
			return 2
		}
		targets = append(targets, u)
	}
	var next atomic.Uint64
	var mu sync.Mutex
	transports := map[string]*http.Transport{}
	transportFor := func(client string) *http.Transport {
		mu.Lock()
		defer mu.Unlock()
		if t, ok := transports[client]; ok {
			return t
		}
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		if ip := net.ParseIP(client); ip != nil && ip.IsLoopback() {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		t := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second}
		transports[client] = t
		return t
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[next.Add(1)%uint64(len(targets))])
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
			host, _, _ := net.SplitHostPort(clientAddr(req.Context()))
			return transportFor(host).RoundTrip(req)
		}),
	}
	srv := &http.Server{Addr: *listen, Handler: rp, ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, clientKey{}, c.RemoteAddr().String())
		}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "motcua-load proxy: %v\n", err)
		return 1
	}
	return 0
}

type clientKey struct{}

func clientAddr(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
