package portal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves the portal on ln until ctx is done, then shuts down,
// giving requests in flight a few seconds to finish. It returns nil after
// a shutdown and the error that stopped it otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.NewHTTPServer()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve portal: %w", err)
	}
	return nil
}

// NewHTTPServer returns the http.Server that serves the portal's handler.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
}
