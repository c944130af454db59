package portal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/motcua/motcua/agent/seal"
)

// A chunk sent with Upload-Checksum waits in DATADIR/spool/PROCESS until
// its checksum is verified, each portal process in a directory of its own
// (PROCESS is its row in portal_processes). It is sealed there too, under a
// key made for the request and held only in its memory: what a crash
// leaves in the spool opens for no one, and the next process to open or
// sweep removes the spools of processes no longer alive.

// spoolGrace is how long past its lease a process's spool is kept.
const spoolGrace = time.Minute

// removeDeadSpools removes the spool directories of the processes whose
// lease ran out more than spoolGrace ago (and whatever else lies in the
// spool, left by a version that spooled there directly), and forgets the
// processes, and the locks, dead for an hour.
func (s *Server) removeDeadSpools(ctx context.Context) error {
	root := filepath.Dir(s.spoolDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("read %s: %w", root, err)
	}
	now := s.locks.now()
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM portal_processes WHERE alive_until > ?`, now.Add(-spoolGrace).UnixMilli())
	if err != nil {
		return fmt.Errorf("live portal processes: %w", err)
	}
	alive := map[string]bool{s.locks.process: true}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("live portal processes: %w", err)
		}
		alive[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("live portal processes: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if alive[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			errs = append(errs, err)
		} else {
			s.log.Info("removed the spool of a portal process no longer running", "process", e.Name())
		}
	}
	long := now.Add(-time.Hour).UnixMilli()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM upload_locks WHERE NOT EXISTS (SELECT 1 FROM portal_processes p
		WHERE p.id = upload_locks.process AND p.alive_until > ?)`, long); err != nil {
		errs = append(errs, fmt.Errorf("forget the locks of dead portal processes: %w", err))
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM portal_processes WHERE alive_until < ?`, long); err != nil {
		errs = append(errs, fmt.Errorf("forget dead portal processes: %w", err))
	}
	return errors.Join(errs...)
}

// createSpool makes a spool file in this process's spool directory,
// making the directory again if it went (removed by a process that took
// this one for dead while it could not renew its lease).
func (s *Server) createSpool() (*os.File, error) {
	f, err := os.CreateTemp(s.spoolDir, "chunk-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err := mkdir(s.spoolDir); err != nil {
			return nil, err
		}
		f, err = os.CreateTemp(s.spoolDir, "chunk-*")
	}
	return f, err
}

// spoolBlock bounds the clear bytes of one sealed block of a spool file.
const spoolBlock = 64 << 10

// spoolWriter seals what it is given in blocks and appends them to f.
type spoolWriter struct {
	f    *os.File
	keys *seal.Keyring
	buf  []byte // clear bytes not yet sealed
	rec  []byte
	n    int // blocks written
}

func newSpoolWriter(f *os.File) *spoolWriter {
	return &spoolWriter{f: f, keys: seal.Ephemeral(), buf: make([]byte, 0, spoolBlock),
		rec: make([]byte, 0, 4+seal.Overhead+spoolBlock)}
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(len(p), spoolBlock-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == spoolBlock {
			if err := w.flush(); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// flush seals the bytes held and appends them as a block.
func (w *spoolWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.rec = w.keys.SealAppend(append(w.rec[:0], 0, 0, 0, 0), w.buf, "spool", strconv.Itoa(w.n))
	binary.BigEndian.PutUint32(w.rec, uint32(len(w.rec)-4))
	w.n++
	w.buf = w.buf[:0]
	_, err := w.f.Write(w.rec)
	return err
}

// reader returns the spooled bytes, opened, from the start of the file.
func (w *spoolWriter) reader() (io.Reader, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return &spoolReader{f: w.f, keys: w.keys, blocks: w.n, rec: make([]byte, 4+seal.Overhead+spoolBlock),
		clear: make([]byte, 0, spoolBlock)}, nil
}

// spoolReader opens the blocks of a spool file in turn.
type spoolReader struct {
	f          *os.File
	keys       *seal.Keyring
	blocks, n  int
	rec, clear []byte
	off        int // read so far of clear
}

func (r *spoolReader) Read(p []byte) (int, error) {
	for r.off == len(r.clear) {
		if r.n == r.blocks {
			return 0, io.EOF
		}
		if _, err := io.ReadFull(r.f, r.rec[:4]); err != nil {
			return 0, fmt.Errorf("spooled chunk: %w", err)
		}
		size := int(binary.BigEndian.Uint32(r.rec[:4]))
		if size > len(r.rec) {
			return 0, fmt.Errorf("spooled chunk: a block of %d bytes", size)
		}
		if _, err := io.ReadFull(r.f, r.rec[:size]); err != nil {
			return 0, fmt.Errorf("spooled chunk: %w", err)
		}
		var err error
		if r.clear, err = r.keys.OpenAppend(r.clear[:0], r.rec[:size], "spool", strconv.Itoa(r.n)); err != nil {
			return 0, fmt.Errorf("spooled chunk, block %d: %w", r.n, err)
		}
		r.n++
		r.off = 0
	}
	k := copy(p, r.clear[r.off:])
	r.off += k
	return k, nil
}
