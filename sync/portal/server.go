package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// Serve serves the portal on ln until ctx is done, then shuts down: it
// gives requests in flight five seconds to finish, then closes their
// connections, and only then returns. It returns nil after a shutdown and
// the error that stopped it otherwise. With Config.TLSCertFile it answers
// TLS only. Meanwhile it caps the connections
// (Config.MaxConns, MaxConnsPerAddr) and removes expired uploads.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := s.NewHTTPServer()
	ln = newConnLimiter(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerAddr, &s.refusedConns, s.log)
	go s.expireUploadsEvery(ctx, expiryInterval(s.cfg.UploadExpiry))
	shutDown := make(chan struct{})
	go func() {
		defer close(shutDown)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(shut) != nil {
			srv.Close()
		}
	}()
	var err error
	if s.tls != nil {
		srv.TLSConfig = s.tls.Clone()
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	cancel()
	<-shutDown
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve portal: %w", err)
	}
	return nil
}

// expiryInterval is how often Serve looks for expired uploads: hourly, or
// four times per expiry when that is shorter.
func expiryInterval(expiry time.Duration) time.Duration {
	return max(min(expiry/4, time.Hour), time.Second)
}

// NewHTTPServer returns the http.Server that serves the portal's handler,
// with its headers bounded in size and time and idle connections closed.
// It has no ReadTimeout: a whole-request deadline would cut a legitimate
// 50 MB upload at 32 KB/s. Request bodies are instead cut when they stop
// making progress for Config.NetworkTimeout: tusd's NetworkTimeout for
// uploads, withChecksum's and bounded's progressReader for the rest. Serve
// also caps the connections.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.instrumented(s.bounded(s.mux)),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// bounded bounds the bodies of requests outside the uploads, which tusd
// and withChecksum bound: one declared larger than MaxRequestBody is
// refused with 413 before it is read (see refuseDraining), one that turns out larger fails to
// decode, and one that stops sending for NetworkTimeout is cut.
func (s *Server) bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, portalapi.PathUploads) {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > MaxRequestBody {
			s.refuseDraining(w, r, http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("body of %d bytes is over the portal's %d bytes", r.ContentLength, MaxRequestBody))
			return
		}
		body := &progressReader{r: r.Body, rc: http.NewResponseController(w), timeout: s.cfg.NetworkTimeout}
		r.Body = http.MaxBytesReader(w, struct {
			io.Reader
			io.Closer
		}{body, r.Body}, MaxRequestBody)
		next.ServeHTTP(w, r)
	})
}

// RefusedConns is the number of connections closed because they were over
// a cap.
func (s *Server) RefusedConns() int64 { return s.refusedConns.Load() }

// refuseDraining answers r with the refusal, sends it at once, and only
// then reads and discards r's body, so that the connection closes with
// nothing unread. A portal that closed with the body unread would have the
// kernel reset the connection, and a client still sending the body (a kiosk
// on a weak link always is) would see a reset, which the uplink takes for a
// cut and retries for ever, instead of the refusal it quarantines with its
// reason. The reading is bounded: a body declared over MaxDrainedBody, or
// one its client holds back until told to continue (Expect: 100-continue),
// is not read at all, and one that stops sending for NetworkTimeout is cut.
func (s *Server) refuseDraining(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.ContentLength > MaxDrainedBody || strings.Contains(strings.ToLower(r.Header.Get("Expect")), "100-continue") {
		refuseUnread(w, status, code, msg)
		return
	}
	rc := http.NewResponseController(w)
	// Without full duplex, net/http's HTTP/1 server stops the body's reads
	// once the answer is sent.
	if err := rc.EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Warn("refuse a request: read its body after the answer", "err", err)
	}
	refuseUnread(w, status, code, msg)
	if err := rc.Flush(); err != nil {
		return
	}
	body := &progressReader{r: r.Body, rc: rc, timeout: s.cfg.NetworkTimeout}
	io.Copy(io.Discard, io.LimitReader(body, MaxDrainedBody))
}
