package portal

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// healthTimeout bounds each of the health check's probes.
const healthTimeout = 2 * time.Second

// Parts the health check names when they fail.
const (
	healthDatabase = "database"
	healthUploads  = "uploads"
)

// handleHealth answers the portal's instance id once its database answers
// a query and its uploads directory takes a file; otherwise 503, naming in
// Failed what did not.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := portalapi.Health{Status: "ok", Instance: s.instance}
	if err := s.checkDatabase(r.Context()); err != nil {
		s.log.Error("health check", "part", healthDatabase, "err", err)
		h.Failed = append(h.Failed, healthDatabase)
	}
	if err := s.checkUploads(); err != nil {
		s.log.Error("health check", "part", healthUploads, "err", err)
		h.Failed = append(h.Failed, healthUploads)
	}
	if len(h.Failed) > 0 {
		h.Status = "unavailable"
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(authRetryAfter)))
		writeJSON(w, http.StatusServiceUnavailable, h)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// checkDatabase runs a trivial query.
func (s *Server) checkDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("query the records: %w", err)
	}
	return nil
}

// checkUploads creates and removes a probe file in the uploads directory.
func (s *Server) checkUploads() error {
	f, err := os.CreateTemp(s.uploads.Path, ".health-*")
	if err != nil {
		return fmt.Errorf("write to the uploads directory: %w", err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("probe file in the uploads directory: %w", err)
	}
	return nil
}
