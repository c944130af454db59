package portal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// removeHalfMade removes upload id, whose parts no longer make an upload
// (an empty or unreadable info, its bytes gone), and reports whether it
// did. The sweeper calls it, under the upload's lock, for one that
// received nothing for UploadExpiry.
func (s *Server) removeHalfMade(ctx context.Context, id string, why error) (bool, error) {
	if _, err := s.uploads.GetUpload(ctx, id); err == nil {
		return false, nil
	}
	if last, hasInfo, err := s.uploads.LastWrite(ctx, id); err != nil || !hasInfo || last.IsZero() {
		return false, err // gone already
	}
	if err := s.uploads.Remove(ctx, id); err != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, err)
	}
	s.log.Info("half-made upload expired: removed", "upload", id, "err", why)
	return true, nil
}

// orphanGrace is how long the bytes of an upload without its info are
// kept: the store writes the info right after it creates the bytes, so
// past this only a crash or a failure between the two, never an upload
// being created, leaves them so.
const orphanGrace = time.Hour

// RemoveOrphans removes the bytes of uploads that have no info (a crash
// between the store making the two, or an info lost) and have not changed
// for orphanGrace: no request can reach them, and nothing else would
// remove them. Bytes a filed application uses are kept, and logged. Open
// and ExpireUploads call it. It returns how many it removed.
func (s *Server) RemoveOrphans(ctx context.Context) (int, error) {
	left, err := s.uploads.Leftovers(ctx)
	if err != nil {
		return 0, fmt.Errorf("remove orphan upload bytes: %w", err)
	}
	removed := 0
	var errs []error
	for id, last := range left {
		if s.now().Sub(last) < orphanGrace {
			continue
		}
		ok, err := s.removeOrphan(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeOrphan removes the bytes of upload id if they have no info, are
// older than orphanGrace, no request in any process holds their lock and
// no filed application uses them, holding the upload's lock meanwhile.
func (s *Server) removeOrphan(ctx context.Context, id string) (bool, error) {
	h, err := s.locks.tryAcquire(ctx, id)
	if errors.Is(err, errLockBusy) {
		return false, nil // in use: not an orphan after all
	}
	if err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	defer s.locks.release(h)
	if orphaned, err := s.orphaned(ctx, id); err != nil || !orphaned {
		return false, err
	}
	var filed int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM submission_attachments WHERE upload_id = ?`, id).Scan(&filed); err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	if filed > 0 {
		s.log.Error("the bytes of a filed application's upload have no info: kept", "upload", id)
		return false, nil
	}
	if err := s.uploads.Remove(ctx, id); err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	s.log.Info("orphan upload bytes (no info) removed", "upload", id)
	return true, nil
}

// orphaned reports whether the bytes of upload id have no info and have
// not changed for orphanGrace.
func (s *Server) orphaned(ctx context.Context, id string) (bool, error) {
	last, hasInfo, err := s.uploads.LastWrite(ctx, id)
	if err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	return !hasInfo && !last.IsZero() && s.now().Sub(last) >= orphanGrace, nil
}
