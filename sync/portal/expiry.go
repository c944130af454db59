package portal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultUploadExpiry is how long an upload that no filed application uses
// is kept after its last byte arrived.
const DefaultUploadExpiry = 7 * 24 * time.Hour

// ExpireUploads removes, with their bytes, the uploads that no filed
// application uses (no manifest, a manifest never filed, or bytes still
// missing) and that received nothing for Config.UploadExpiry. A kiosk that
// comes back after that finds its upload gone (404 to HEAD) and creates it
// again. An upload a filed application uses is never removed. It also
// removes the orphan bytes of uploads without their .info (RemoveOrphans)
// and the spools of portal processes no longer running, even when uploads
// never expire. It returns how many uploads it removed.
func (s *Server) ExpireUploads(ctx context.Context) (int, error) {
	orphans, oerr := s.RemoveOrphans(ctx)
	oerr = errors.Join(oerr, s.removeDeadSpools(ctx))
	if s.cfg.UploadExpiry < 0 {
		return orphans, oerr
	}
	ups, err := s.uploads.Uploads(ctx)
	if err != nil {
		return orphans, errors.Join(oerr, fmt.Errorf("expire uploads: %w", err))
	}
	removed := orphans
	errs := []error{oerr}
	for id, last := range ups {
		if s.now().Sub(last) < s.cfg.UploadExpiry {
			continue
		}
		ok, err := s.expireUpload(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// expireUpload removes upload id if it is stale, no request in any
// process holds its lock (taking it from one would stop that request) and
// no filed application uses it, holding its lock meanwhile: no request
// writes to it, and no filing of it is recorded, in the meantime.
func (s *Server) expireUpload(ctx context.Context, id string) (bool, error) {
	h, err := s.locks.tryAcquire(ctx, id)
	if errors.Is(err, errLockBusy) {
		return false, nil // in use: not stale after all
	}
	if err != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, err)
	}
	defer s.locks.release(h)
	if stale, err := s.uploadStale(ctx, id); err != nil || !stale {
		return false, err
	}
	var filed int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM submission_attachments WHERE upload_id = ?`, id).Scan(&filed); err != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, err)
	}
	if filed > 0 {
		return false, nil
	}
	up, err := s.uploads.GetUpload(ctx, id)
	if err != nil {
		return s.removeHalfMade(ctx, id, err)
	}
	info, _ := up.GetInfo(ctx)
	if err := s.uploads.Remove(ctx, id); err != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, err)
	}
	s.log.Info("unfiled upload expired: removed", "upload", id, "device", info.MetaData["device_id"],
		"offset", info.Offset, "size", info.Size)
	return true, nil
}

// uploadStale reports whether upload id received nothing for
// UploadExpiry.
func (s *Server) uploadStale(ctx context.Context, id string) (bool, error) {
	last, hasInfo, err := s.uploads.LastWrite(ctx, id)
	if err != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, err)
	}
	return hasInfo && !last.IsZero() && s.now().Sub(last) >= s.cfg.UploadExpiry, nil
}

// expireUploadsEvery runs ExpireUploads every interval until ctx is done.
func (s *Server) expireUploadsEvery(ctx context.Context, interval time.Duration) {
	if s.cfg.UploadExpiry < 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.ExpireUploads(ctx); err != nil {
			s.log.Error("expire uploads", "err", err)
		} else if n > 0 {
			s.log.Info("expired unfiled uploads", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// uploadBusy reports whether a request of this process holds the lock of
// upload id.
func (s *Server) uploadBusy(id string) bool { return s.locks.heldHere(id) }
