package portal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
)

// uploadStore is the portal's tus store: the file store, except that an
// upload whose creation fails (a full disk leaves its bytes' file made and
// its .info empty) is removed at once. Left, no request could complete it:
// the kiosk would ask for it for ever, and the sweeper could not read it.
// Removed, it does not exist (404 to HEAD), and the kiosk creates it again.
type uploadStore struct {
	filestore.FileStore
	log *slog.Logger
	s   *Server
}

// GetUpload returns an upload whose bytes are sealed (see sealed.go).
func (u uploadStore) GetUpload(ctx context.Context, id string) (tushandler.Upload, error) {
	return u.s.getUpload(ctx, id)
}

// NewUpload creates an upload, or removes what it made of it and fails.
func (u uploadStore) NewUpload(ctx context.Context, info tushandler.FileInfo) (tushandler.Upload, error) {
	up, err := u.FileStore.NewUpload(ctx, info)
	if err == nil {
		return u.s.wrapUpload(ctx, up)
	}
	if info.ID == "" {
		return up, err
	}
	if rerr := removeUploadFiles(u.Path, info.ID); rerr != nil {
		u.log.Error("an upload whose creation failed could not be removed", "upload", info.ID, "err", rerr)
		return nil, errors.Join(err, rerr)
	}
	u.log.Warn("an upload whose creation failed was removed", "upload", info.ID, "err", err)
	return nil, err
}

// removeUploadFiles removes the files of upload id in dir: its bytes and
// its .info, whichever exist.
func removeUploadFiles(dir, id string) error {
	var errs []error
	for _, p := range []string{filepath.Join(dir, id), filepath.Join(dir, id+".info")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	return nil
}

// removeHalfMade removes upload id, whose files no longer make an upload
// (an empty or unreadable .info, its bytes' file gone), and reports
// whether it did. The sweeper calls it, under the upload's lock, for one
// that received nothing for UploadExpiry.
func (s *Server) removeHalfMade(ctx context.Context, id string) (bool, error) {
	_, err := s.uploads.GetUpload(ctx, id)
	if err == nil {
		return false, nil
	}
	if _, serr := os.Lstat(filepath.Join(s.uploads.Path, id+".info")); errors.Is(serr, fs.ErrNotExist) {
		return false, nil // gone already
	}
	if rerr := removeUploadFiles(s.uploads.Path, id); rerr != nil {
		return false, fmt.Errorf("expire upload %s: %w", id, rerr)
	}
	s.removeSealed(id)
	s.log.Info("half-made upload expired: removed", "upload", id, "err", err)
	return true, nil
}

// orphanGrace is how long the bytes of an upload without its .info are
// kept: the file store writes the .info right after it creates the bytes'
// file, so past this only a crash or a failure between the two, never an
// upload being created, leaves them so.
const orphanGrace = time.Hour

// RemoveOrphans removes the bytes of uploads that have no .info (a crash
// between the file store making the two, or a .info lost) and have not
// changed for orphanGrace: no request can reach them, and nothing else
// would remove them. Bytes a filed application uses are kept, and logged.
// Open and ExpireUploads call it. It returns how many it removed.
func (s *Server) RemoveOrphans(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.uploads.Path)
	if err != nil {
		return 0, fmt.Errorf("remove orphan upload bytes: %w", err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		id := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(id, ".info") {
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

// removeOrphan removes the bytes of upload id if they have no .info, are
// older than orphanGrace, no request in any process holds their lock and no filed
// application uses them, holding the upload's lock meanwhile.
func (s *Server) removeOrphan(ctx context.Context, id string) (bool, error) {
	if !s.orphaned(id) {
		return false, nil
	}
	h, err := s.locks.tryAcquire(ctx, id)
	if errors.Is(err, errLockBusy) {
		return false, nil // in use: not an orphan after all
	}
	if err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	defer s.locks.release(h)
	if !s.orphaned(id) {
		return false, nil
	}
	var filed int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM submission_attachments WHERE upload_id = ?`, id).Scan(&filed); err != nil {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	if filed > 0 {
		s.log.Error("the bytes of a filed application's upload have no .info: kept", "upload", id)
		return false, nil
	}
	if err := os.Remove(filepath.Join(s.uploads.Path, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove orphan upload bytes %s: %w", id, err)
	}
	s.removeSealed(id)
	s.log.Info("orphan upload bytes (no .info) removed", "upload", id)
	return true, nil
}

// orphaned reports whether the bytes of upload id have no .info and have
// not changed for orphanGrace.
func (s *Server) orphaned(id string) bool {
	if _, err := os.Lstat(filepath.Join(s.uploads.Path, id+".info")); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	st, err := os.Lstat(filepath.Join(s.uploads.Path, id))
	return err == nil && st.Mode().IsRegular() && s.now().Sub(st.ModTime()) >= orphanGrace
}
