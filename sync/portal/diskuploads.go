package portal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
)

// diskUploads keeps the uploads on local disk: tusd's file store in
// DATADIR/uploads (ID.info and a sparse file ID whose size is the offset)
// and their bytes sealed in DATADIR/uploads-sealed/ID (sealed.go).
//
// An upload whose creation fails (a full disk leaves its bytes' file made
// and its .info empty) is removed at once. Left, no request could complete
// it: the kiosk would ask for it for ever, and the sweeper could not read
// it. Removed, it does not exist (404 to HEAD), and the kiosk creates it
// again.
type diskUploads struct {
	files filestore.FileStore
	// dir is the file store's directory, and sealedDir holds the uploads'
	// sealed bytes.
	dir, sealedDir string
	s              *Server
}

// openDiskUploads opens DATADIR/uploads, making its directories, and seals
// what a portal from before sealing left in clear there.
func openDiskUploads(ctx context.Context, s *Server) (*diskUploads, error) {
	d := &diskUploads{dir: filepath.Join(s.cfg.DataDir, "uploads"), sealedDir: filepath.Join(s.cfg.DataDir, "uploads-sealed"), s: s}
	d.files = filestore.New(d.dir)
	for _, dir := range []string{d.dir, d.sealedDir} {
		if err := mkdir(dir); err != nil {
			return nil, err
		}
	}
	if err := d.sealClear(); err != nil {
		return nil, err
	}
	return d, nil
}

// Close does nothing: the files are closed after each use.
func (d *diskUploads) Close() error { return nil }

// sealedPath returns where upload id's sealed bytes are kept.
func (d *diskUploads) sealedPath(id string) string { return filepath.Join(d.sealedDir, id) }

// GetUpload returns upload id from the file store, its bytes sealed.
func (d *diskUploads) GetUpload(ctx context.Context, id string) (tushandler.Upload, error) {
	up, err := d.files.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.wrapUpload(ctx, up)
}

// NewUpload creates an upload, or removes what it made of it and fails.
func (d *diskUploads) NewUpload(ctx context.Context, info tushandler.FileInfo) (tushandler.Upload, error) {
	up, err := d.files.NewUpload(ctx, info)
	if err == nil {
		return d.wrapUpload(ctx, up)
	}
	if info.ID == "" {
		return up, err
	}
	if rerr := removeUploadFiles(d.dir, info.ID); rerr != nil {
		d.s.log.Error("an upload whose creation failed could not be removed", "upload", info.ID, "err", rerr)
		return nil, errors.Join(err, rerr)
	}
	d.s.log.Warn("an upload whose creation failed was removed", "upload", info.ID, "err", err)
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

// Remove removes upload id's files and its sealed bytes.
func (d *diskUploads) Remove(_ context.Context, id string) error {
	if err := removeUploadFiles(d.dir, id); err != nil {
		return err
	}
	if err := os.Remove(d.sealedPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove upload %s: its sealed bytes: %w", id, err)
	}
	return nil
}

// Uploads returns the uploads that have a .info, with the latest
// modification time of their files.
func (d *diskUploads) Uploads(context.Context) (map[string]time.Time, error) {
	infos, err := filepath.Glob(filepath.Join(d.dir, "*.info"))
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	out := map[string]time.Time{}
	for _, p := range infos {
		id := strings.TrimSuffix(filepath.Base(p), ".info")
		if last := d.lastChange(id); !last.IsZero() {
			out[id] = last
		}
	}
	return out, nil
}

// Leftovers returns the bytes' files that have no .info, with their
// modification times.
func (d *diskUploads) Leftovers(context.Context) (map[string]time.Time, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("list upload files: %w", err)
	}
	out := map[string]time.Time{}
	for _, e := range entries {
		id := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(id, ".info") {
			continue
		}
		if _, err := os.Lstat(filepath.Join(d.dir, id+".info")); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if st, err := e.Info(); err == nil {
			out[id] = st.ModTime()
		}
	}
	return out, nil
}

// LastWrite tells whether upload id has its .info, and the latest
// modification time of its files.
func (d *diskUploads) LastWrite(_ context.Context, id string) (time.Time, bool, error) {
	_, err := os.Lstat(filepath.Join(d.dir, id+".info"))
	hasInfo := !errors.Is(err, fs.ErrNotExist)
	return d.lastChange(id), hasInfo, nil
}

// lastChange is the latest modification time of upload id's files, zero
// if it has none.
func (d *diskUploads) lastChange(id string) time.Time {
	var last time.Time
	for _, p := range []string{filepath.Join(d.dir, id), filepath.Join(d.dir, id+".info")} {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && st.ModTime().After(last) {
			last = st.ModTime()
		}
	}
	return last
}

// Check creates and removes a probe file in the uploads directory.
func (d *diskUploads) Check(context.Context) error {
	f, err := os.CreateTemp(d.dir, ".health-*")
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

// Reseal seals upload id's .info metadata (through meta) and, once
// complete, its bytes again under the current data key, each file
// replaced whole.
func (d *diskUploads) Reseal(ctx context.Context, id string, meta func(tushandler.MetaData) error) error {
	infoPath := filepath.Join(d.dir, id+".info")
	raw, err := os.ReadFile(infoPath)
	if err != nil {
		return nil // half-made
	}
	var info tushandler.FileInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil
	}
	before := maps.Clone(info.MetaData)
	if meta != nil && info.MetaData != nil {
		if err := meta(info.MetaData); err != nil {
			return err
		}
	}
	if !maps.Equal(before, info.MetaData) {
		b, _ := json.Marshal(info)
		if err := replaceFile(infoPath, b); err != nil {
			return err
		}
	}
	up, err := d.GetUpload(ctx, id)
	if err != nil {
		return nil
	}
	// An upload still receiving keeps its segments under the old key, which
	// still opens them: another process (a portal serving while this runs)
	// may be appending to it, beyond this process's lock.
	if info, err := up.GetInfo(ctx); err != nil || info.Offset < info.Size {
		return nil
	}
	rd, err := up.GetReader(ctx)
	if err != nil {
		return err
	}
	clear, err := io.ReadAll(rd)
	rd.Close()
	if err != nil || len(clear) == 0 {
		return err
	}
	var out []byte
	for start := 0; start < len(clear); start += segmentSize {
		end := min(start+segmentSize, len(clear))
		out = binary.BigEndian.AppendUint32(out, 0)
		at := len(out)
		out = d.s.keyring().SealAppend(out, clear[start:end], segmentPlace(id, int64(start))...)
		binary.BigEndian.PutUint32(out[at-4:], uint32(len(out)-at))
	}
	return replaceFile(d.sealedPath(id), out)
}
