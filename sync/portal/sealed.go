package portal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// The portal seals what it keeps of a citizen as the kiosk does
// (agent/seal, a data key wrapped by DATADIR/keys/kek): the forms and the
// attachments' names in its records, the manifest an upload's metadata
// carries, and the uploads' bytes.
//
// Upload bytes are sealed as they arrive: each chunk tusd writes is sealed
// and appended to DATADIR/uploads-sealed/ID as a segment, and the upload's
// own file in uploads/ is only extended to the new length (a sparse file of
// zeros), which is what tusd reads its offset from. Readers open the
// segments. A chunk sent with Upload-Checksum waits in DATADIR/spool sealed
// under a key that lives only in the request's memory (spool.go). So no
// clear byte of an upload reaches the disk, in progress or filed: only
// what a request holds in memory while it runs is in clear.

// ErrSealed is wrapped by the errors of a sealed record or upload that does
// not open.
var ErrSealed = errors.New("sealed data cannot be opened")

// sealedPrefix starts a sealed value kept in a TEXT column or in tus
// metadata (base64 of the sealed bytes).
const sealedPrefix = "sealed:"

// segmentSize bounds the clear bytes of one sealed upload segment.
const segmentSize = 256 << 10

func (s *Server) sealText(plain string, place ...string) string {
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(s.keyring().Seal([]byte(plain), place...))
}

func (s *Server) openText(v string, place ...string) (string, error) {
	b64, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return v, nil // written in clear before sealing
	}
	b, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("%w: %w: not base64", ErrSealed, seal.ErrBroken)
	}
	plain, err := s.openSealed(b, place...)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSealed, err)
	}
	return string(plain), nil
}

func formPlace(id int64) []string { return []string{"submissions", seal.Place(id), "form"} }

func namePlace(id int64, ordinal int) []string {
	return []string{"submission_attachments", seal.Place(id), strconv.Itoa(ordinal), "name"}
}

func manifestPlace(uploadID string) []string {
	return []string{"upload metadata", uploadID, portalapi.MetaManifest}
}

func segmentPlace(uploadID string, start int64) []string {
	return []string{"upload", uploadID, strconv.FormatInt(start, 10)}
}

// sealedUpload is an upload of the file store whose bytes are sealed.
type sealedUpload struct {
	tushandler.Upload
	d    *diskUploads
	id   string
	bin  string
	info tushandler.FileInfo
}

// wrapUpload wraps an upload of the file store so that its bytes are
// sealed.
func (d *diskUploads) wrapUpload(ctx context.Context, up tushandler.Upload) (tushandler.Upload, error) {
	info, err := up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(d.dir, info.ID)
	if p := info.Storage["Path"]; p != "" {
		bin = p
	}
	return &sealedUpload{Upload: up, d: d, id: info.ID, bin: bin, info: info}, nil
}

// GetInfo returns the upload's info, its offset counting the chunks
// written through this value.
func (u *sealedUpload) GetInfo(context.Context) (tushandler.FileInfo, error) { return u.info, nil }

// WriteChunk seals src's bytes segment by segment, appending each to the
// sealed file before the upload's file is extended over it: a crash in
// between leaves a segment past the offset tusd reports, which the next
// chunk at that offset replaces.
func (u *sealedUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	f, err := os.OpenFile(u.d.sealedPath(u.id), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	end, err := segmentsUpTo(f, offset)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", u.id, err)
	}
	if end != offset {
		return 0, fmt.Errorf("upload %s: %w: its sealed bytes end at %d, not at the offset %d", u.id, ErrSealed, end, offset)
	}
	// Each read is sealed as it comes, as the file store writes it: bytes
	// that arrived are on disk, however slowly the rest follows.
	buf := make([]byte, segmentSize)
	rec := make([]byte, 0, 4+seal.Overhead+segmentSize)
	var written int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			rec = u.d.s.keyring().SealAppend(append(rec[:0], 0, 0, 0, 0), buf[:n], segmentPlace(u.id, offset+written)...)
			binary.BigEndian.PutUint32(rec, uint32(len(rec)-4))
			if _, err := f.Write(rec); err != nil {
				return written, err
			}
			if err := os.Truncate(u.bin, offset+written+int64(n)); err != nil {
				return written, err
			}
			written += int64(n)
			u.info.Offset = offset + written
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

// segmentsUpTo walks the sealed segments in f up to offset, truncates f
// after the last one that ends there (dropping a segment a crash wrote
// past it, or half wrote) and leaves f positioned at its end. It returns
// where the kept segments end.
func segmentsUpTo(f *os.File, offset int64) (int64, error) {
	var pos, end int64
	hdr := make([]byte, 4) // a segment's length
	for end < offset {
		if _, err := f.ReadAt(hdr[:4], pos); err != nil {
			break
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if pos+4+n > st.Size() || n < seal.Overhead {
			break // half written
		}
		pos += 4 + n
		end += n - seal.Overhead
	}
	if err := f.Truncate(pos); err != nil {
		return 0, err
	}
	_, err := f.Seek(pos, io.SeekStart)
	return end, err
}

// GetReader returns the upload's bytes, opened.
func (u *sealedUpload) GetReader(ctx context.Context) (io.ReadCloser, error) {
	return u.d.openUpload(u.id, u.info.Offset)
}

// openUpload reads upload id's sealed segments up to size bytes and opens
// them. A segment changed, missing or moved is an error naming the upload
// and the offset.
func (d *diskUploads) openUpload(id string, size int64) (io.ReadCloser, error) {
	raw, err := os.ReadFile(d.sealedPath(id))
	if errors.Is(err, fs.ErrNotExist) && size == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	out := make([]byte, 0, size)
	for int64(len(out)) < size {
		if len(raw) < 4 {
			return nil, fmt.Errorf("upload %s: %w: its sealed bytes end at %d of %d", id, ErrSealed, len(out), size)
		}
		n := int(binary.BigEndian.Uint32(raw))
		if len(raw) < 4+n {
			return nil, fmt.Errorf("upload %s: %w: a segment at %d is cut short", id, ErrSealed, len(out))
		}
		plain, err := d.s.openSealed(raw[4:4+n], segmentPlace(id, int64(len(out)))...)
		if err != nil {
			return nil, fmt.Errorf("upload %s, bytes from %d: %w: %w", id, len(out), ErrSealed, err)
		}
		out = append(out, plain...)
		raw = raw[4+n:]
	}
	return io.NopCloser(bytes.NewReader(out[:size])), nil
}

// sealClear seals what the portal's records held in clear before sealing
// (migration 0005): forms and attachment names. On SQLite the WAL is
// truncated after, and secure_delete has zeroed the pages the clear values
// were in; PostgreSQL records were never kept in clear. The uploads on
// disk are sealed when they are opened (diskUploads.sealClear); a bucket
// never held clear ones.
func (s *Server) sealClear(ctx context.Context) error {
	n, err := s.sealClearRecords(ctx)
	if err != nil {
		return fmt.Errorf("seal the records kept in clear: %w", err)
	}
	if n > 0 && !s.pg {
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("seal the records kept in clear: checkpoint: %w", err)
		}
		s.log.Info("records kept in clear were sealed", "records", n)
	}
	return nil
}

// sealClear seals the manifests in uploads' metadata and the uploads'
// bytes that a portal from before sealing kept in clear.
func (d *diskUploads) sealClear() error {
	infos, err := filepath.Glob(filepath.Join(d.dir, "*.info"))
	if err != nil {
		return err
	}
	sealed := 0
	for _, p := range infos {
		id := strings.TrimSuffix(filepath.Base(p), ".info")
		did, err := d.sealClearUpload(id)
		if err != nil {
			return fmt.Errorf("seal upload %s kept in clear: %w", id, err)
		}
		if did {
			sealed++
		}
	}
	if sealed > 0 {
		d.s.log.Info("uploads kept in clear were sealed", "uploads", sealed)
	}
	return nil
}

func (s *Server) sealClearRecords(ctx context.Context) (int, error) {
	if s.pg {
		// PostgreSQL records are sealed from their first row: there is
		// nothing to look for, and reading every form at each start would
		// be slow at a province's scale.
		return 0, nil
	}
	n := 0
	err := sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		n = 0
		forms, err := submissionForms(ctx, tx)
		if err != nil {
			return err
		}
		for _, f := range forms {
			if seal.Sealed(f.form) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE submissions SET form = ? WHERE id = ?`, s.keyring().Seal(f.form, formPlace(f.id)...), f.id); err != nil {
				return err
			}
			n++
		}
		names, err := attachmentNames(ctx, tx, true)
		if err != nil {
			return err
		}
		for _, a := range names {
			if _, err := tx.ExecContext(ctx, `UPDATE submission_attachments SET name = ? WHERE submission_id = ? AND ordinal = ?`,
				s.sealText(a.name, namePlace(a.id, a.ordinal)...), a.id, a.ordinal); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// sealClearUpload seals upload id's metadata manifest and bytes if they
// are in clear, and reports whether it did. The sealed bytes are written
// whole (to a temporary file renamed into place) before the clear ones are
// replaced by zeros.
func (d *diskUploads) sealClearUpload(id string) (bool, error) {
	s := d.s
	infoPath := filepath.Join(d.dir, id+".info")
	raw, err := os.ReadFile(infoPath)
	if err != nil {
		return false, nil // half-made: the sweeper's
	}
	var info tushandler.FileInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return false, nil
	}
	did := false
	if m, ok := info.MetaData[portalapi.MetaManifest]; ok && !strings.HasPrefix(m, sealedPrefix) {
		info.MetaData[portalapi.MetaManifest] = s.sealText(m, manifestPlace(id)...)
		b, _ := json.Marshal(info)
		if err := replaceFile(infoPath, b); err != nil {
			return false, err
		}
		did = true
	}
	bin := filepath.Join(d.dir, id)
	if p := info.Storage["Path"]; p != "" {
		bin = p
	}
	st, err := os.Stat(bin)
	if err != nil || st.Size() == 0 {
		return did, nil
	}
	clear, err := hasData(bin)
	if err != nil || !clear {
		return did, err // sealed as it arrived: the file is zeros
	}
	if _, err := os.Stat(d.sealedPath(id)); err == nil {
		// Sealed already; a crash came before the clear bytes were
		// zeroed: zero them.
		return did, zero(bin, st)
	}
	plain, err := os.ReadFile(bin)
	if err != nil {
		return did, err
	}
	var out []byte
	for start := 0; start < len(plain); start += segmentSize {
		end := min(start+segmentSize, len(plain))
		sealed := s.keyring().Seal(plain[start:end], segmentPlace(id, int64(start))...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(sealed)))
		out = append(out, sealed...)
	}
	if err := replaceFile(d.sealedPath(id), out); err != nil {
		return did, err
	}
	return true, zero(bin, st)
}

// zero replaces the bytes of path by a sparse run of zeros of the same
// length, which is all tusd reads of it (its size is the offset), keeping
// its modification time, by which the sweeper judges it.
func zero(path string, st os.FileInfo) error {
	if err := os.Truncate(path, 0); err != nil {
		return err
	}
	if err := os.Truncate(path, st.Size()); err != nil {
		return err
	}
	return os.Chtimes(path, st.ModTime(), st.ModTime())
}

// seekData is lseek's SEEK_DATA: the next part of a file holding data.
const seekData = 3

// hasData reports whether path holds a byte that is not zero: an upload
// file from before sealing. A file that is all holes (sealed as its bytes
// arrived) is known so without reading it, where the file system tells.
func hasData(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := f.Seek(0, seekData); errors.Is(err, syscall.ENXIO) {
		return false, nil
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 {
				return true, nil
			}
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// replaceFile writes b to path through a synced temporary file renamed
// into place.
func replaceFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// RotateKEK makes a new key-encryption key and wraps the portal's data keys
// under it (`motcua keys rotate --portal`). It returns the new key's id.
func (s *Server) RotateKEK(ctx context.Context) (string, error) {
	return seal.RotateKEK(ctx, s.db, seal.KEKPath(s.cfg.DataDir))
}

// RotateDataKey makes a new data key and seals the forms and attachment
// names again under it in one transaction, then each upload's metadata
// manifest and bytes, each file replaced whole. The old data key is kept,
// so what a crash leaves under it still opens; a later rotation takes it
// on. It returns the new version and how many records and uploads were
// sealed again.
func (s *Server) RotateDataKey(ctx context.Context) (uint32, int, error) {
	kek, err := seal.LoadKEK(seal.KEKPath(s.cfg.DataDir), false)
	if err != nil {
		return 0, 0, err
	}
	old := s.keyring()
	var keys *seal.Keyring
	n := 0
	err = sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		if keys, err = seal.AddDataKey(ctx, tx, kek); err != nil {
			return err
		}
		n = 0
		forms, err := submissionForms(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range forms {
			plain := r.form
			if seal.Sealed(r.form) {
				if plain, err = keys.Open(r.form, formPlace(r.id)...); err != nil {
					return fmt.Errorf("submission %d form: %w: %w", r.id, ErrSealed, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE submissions SET form = ? WHERE id = ?`, keys.Seal(plain, formPlace(r.id)...), r.id); err != nil {
				return err
			}
			n++
		}
		names, err := attachmentNames(ctx, tx, false)
		if err != nil {
			return err
		}
		s.keys.Store(keys)
		for _, a := range names {
			plain, err := s.openText(a.name, namePlace(a.id, a.ordinal)...)
			if err != nil {
				return fmt.Errorf("submission %d attachment %d name: %w", a.id, a.ordinal, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE submission_attachments SET name = ? WHERE submission_id = ? AND ordinal = ?`,
				s.sealText(plain, namePlace(a.id, a.ordinal)...), a.id, a.ordinal); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		s.keys.Store(old)
		return 0, 0, fmt.Errorf("rotate the data key: %w", err)
	}
	ids, err := s.uploads.Uploads(ctx)
	if err != nil {
		return keys.Current(), n, fmt.Errorf("rotate the data key: %w", err)
	}
	for id := range ids {
		if err := s.resealUpload(ctx, id); err != nil {
			return keys.Current(), n, fmt.Errorf("rotate the data key: upload %s: %w", id, err)
		}
		n++
	}
	s.log.Info("data key rotated", "version", keys.Current(), "sealed", n)
	return keys.Current(), n, nil
}

// resealUpload seals upload id's metadata manifest and, once complete, its
// bytes again under the current data key, holding its lock.
func (s *Server) resealUpload(ctx context.Context, id string) error {
	h, err := s.locks.acquire(ctx, id, nil, true)
	if err != nil {
		return err
	}
	defer s.locks.release(h)
	return s.uploads.Reseal(ctx, id, func(meta tushandler.MetaData) error {
		m, ok := meta[portalapi.MetaManifest]
		if !ok {
			return nil
		}
		plain, err := s.openText(m, manifestPlace(id)...)
		if err != nil {
			return err
		}
		meta[portalapi.MetaManifest] = s.sealText(plain, manifestPlace(id)...)
		return nil
	})
}

// keyring returns the portal's keys.
func (s *Server) keyring() *seal.Keyring { return s.keys.Load() }

// openSealed opens b sealed at place; a data key this portal has not
// loaded (added since by `motcua keys rotate --portal --data` in another
// process) is looked for once more.
func (s *Server) openSealed(b []byte, place ...string) ([]byte, error) {
	keys := s.keyring()
	plain, err := keys.Open(b, place...)
	if errors.Is(err, seal.ErrNoDataKey) {
		if keys, _, lerr := seal.Load(context.Background(), s.db, seal.KEKPath(s.cfg.DataDir), false); lerr == nil {
			s.keys.Store(keys)
			plain, err = keys.Open(b, place...)
		}
	}
	return plain, err
}

// formRow is one submission's stored form, sealed or (before the
// upgrade) in clear.
type formRow struct {
	id   int64
	form []byte
}

// submissionForms reads every submission's stored form, in tx.
func submissionForms(ctx context.Context, tx *sql.Tx) ([]formRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, form FROM submissions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []formRow
	for rows.Next() {
		var f formRow
		if err := rows.Scan(&f.id, &f.form); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// nameRow is one attachment's stored name.
type nameRow struct {
	id      int64
	ordinal int
	name    string
}

// attachmentNames reads the attachments' stored names, in tx; clearOnly
// keeps those not sealed yet.
func attachmentNames(ctx context.Context, tx *sql.Tx, clearOnly bool) ([]nameRow, error) {
	q := `SELECT submission_id, ordinal, name FROM submission_attachments`
	if clearOnly {
		q += ` WHERE name NOT LIKE 'sealed:%'`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []nameRow
	for rows.Next() {
		var a nameRow
		if err := rows.Scan(&a.id, &a.ordinal, &a.name); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
