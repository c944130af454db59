package portal

import (
	"context"
	"fmt"
	"net/http"
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
// a query and its uploads take a probe (a file on disk, an object in the bucket); otherwise 503, naming in
// Failed what did not.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := portalapi.Health{Status: "ok", Instance: s.instance}
	if err := s.checkDatabase(r.Context()); err != nil {
		s.log.Error("health check", "part", healthDatabase, "err", err)
		h.Failed = append(h.Failed, healthDatabase)
	}
	if err := s.checkUploads(r.Context()); err != nil {
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

// checkUploads writes and removes a probe where the uploads are kept.
func (s *Server) checkUploads(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	return s.uploads.Check(ctx)
}
