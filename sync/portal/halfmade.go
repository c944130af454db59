package portal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

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
}

// NewUpload creates an upload, or removes what it made of it and fails.
func (u uploadStore) NewUpload(ctx context.Context, info tushandler.FileInfo) (tushandler.Upload, error) {
	up, err := u.FileStore.NewUpload(ctx, info)
	if err == nil || info.ID == "" {
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
	s.log.Info("half-made upload expired: removed", "upload", id, "err", err)
	return true, nil
}
