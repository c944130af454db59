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
	"sync"
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
		Handler:           s.served(s.bounded(s.mux)),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// bounded bounds the bodies of requests outside the uploads, which tusd
// and withChecksum bound: one declared larger than MaxRequestBody is
// refused with 413 before it is read (see refuseDraining), one that turns
// out larger fails to decode, and one that stops sending for
// NetworkTimeout is cut.
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

// served is the portal's handler as served: measured (metrics.go), and
// with every server error logged.
func (s *Server) served(h http.Handler) http.Handler {
	return s.instrumented(s.loggedServerErrors(h))
}

// loggedServerErrors logs every answer of 500 or more with its cause (the
// answer's message: tusd's answers name the store's error, the portal's
// name what failed) and whether the client had gone, so that no 5xx leaves
// the portal unexplained; the log is rate-limited (failureLog). The layers
// that know more log too (unavailable, the filing), which costs a second
// line for those only.
func (s *Server) loggedServerErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &failureRecorder{ResponseWriter: w, ctx: r.Context()}
		next.ServeHTTP(rec, r)
		if rec.status < 500 {
			return
		}
		cause := strings.TrimSpace(string(rec.body))
		if cause == "" {
			cause = http.StatusText(rec.status) + " (no body: the cause is logged above, by tusd or the portal)"
		}
		s.failures.log(s.log, time.Now(), "answered a server error",
			"method", r.Method, "path", r.URL.Path, "status", rec.status, "cause", cause,
			"remote", remoteHost(r), "client_gone", r.Context().Err() != nil)
	})
}

// maxCause is how much of a 5xx answer's body is logged as its cause.
const maxCause = 512

// failureRecorder keeps a response's status and, for a server error, the
// head of its body. It unwraps for http.ResponseController.
//
// An answer written while the request's context is cancelled closes its
// connection: net/http cancels a kept-alive connection's context for good
// when its background read fails (an interrupted upload leaves it so), and
// every later request on it would meet a cancelled context and be answered
// 503 again and again, however often the kiosk retries (5 of 1,000 kiosks
// wedged so in the full load run). Closed, the kiosk's next request opens
// a fresh connection.
type failureRecorder struct {
	http.ResponseWriter
	ctx    context.Context
	status int
	body   []byte
}

func (f *failureRecorder) WriteHeader(status int) {
	if f.status == 0 {
		f.status = status
		f.closeIfCancelled()
	}
	f.ResponseWriter.WriteHeader(status)
}

// closeIfCancelled asks for the connection to be closed after this answer
// if the request's context is cancelled.
func (f *failureRecorder) closeIfCancelled() {
	if f.ctx != nil && f.ctx.Err() != nil {
		f.Header().Set("Connection", "close")
	}
}

func (f *failureRecorder) Write(b []byte) (int, error) {
	if f.status == 0 {
		f.status = http.StatusOK
		f.closeIfCancelled()
	}
	if f.status >= 500 && len(f.body) < maxCause {
		f.body = append(f.body, b[:min(len(b), maxCause-len(f.body))]...)
	}
	return f.ResponseWriter.Write(b)
}

func (f *failureRecorder) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// failureLog rate-limits the log of server errors: at most
// failuresPerSecond lines a second, and the next line says how many were
// left out. A portal that fails every request of a thousand kiosks logs
// that it does, not a line per request.
type failureLog struct {
	mu      sync.Mutex
	second  time.Time
	logged  int
	dropped int
}

// failuresPerSecond is how many server errors are logged a second.
const failuresPerSecond = 20

func (f *failureLog) log(log *slog.Logger, now time.Time, msg string, args ...any) {
	f.mu.Lock()
	sec := now.Truncate(time.Second)
	if !sec.Equal(f.second) {
		f.second, f.logged = sec, 0
	}
	if f.logged >= failuresPerSecond {
		f.dropped++
		f.mu.Unlock()
		return
	}
	f.logged++
	dropped := f.dropped
	f.dropped = 0
	f.mu.Unlock()
	if dropped > 0 {
		args = append(args, "not_logged_before", dropped)
	}
	log.Error(msg, args...)
}

// tusLog is where tusd's log goes: its errors (an internal error's cause,
// which a HEAD's answer cannot carry), rate-limited with the portal's
// server errors; its request log, too chatty for a portal on a weak link,
// is dropped by the level.
type tusLog struct{ s *Server }

func (l tusLog) Write(p []byte) (int, error) {
	l.s.failures.log(l.s.log, time.Now(), "tusd", "line", strings.TrimSpace(string(p)))
	return len(p), nil
}
