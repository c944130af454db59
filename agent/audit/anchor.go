package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrTailLost is returned (wrapped) when the log ends before the event its
// anchor records: committed events are gone, as when a database's WAL file
// is truncated or damaged. A hash chain cannot see a missing tail by
// itself; only a head kept elsewhere can.
var ErrTailLost = errors.New("audit tail lost")

// Anchor is the head of the chain as last committed, kept outside the
// database so that a lost tail shows. It names the application and key of
// the last event, so staff know which applications to look for.
type Anchor struct {
	Seq            int64  `json:"seq"`
	Hash           []byte `json:"-"`
	ApplicationID  int64  `json:"application_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// anchorFile is the anchor's encoding on disk.
type anchorFile struct {
	Anchor
	Hash string `json:"hash"`
}

// ReadAnchor reads the anchor at path. A missing file is (nil, nil): no
// event has been anchored there yet.
func ReadAnchor(path string) (*Anchor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit anchor: %w", err)
	}
	var f anchorFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read audit anchor %s: %w", path, err)
	}
	if f.Anchor.Hash, err = hex.DecodeString(f.Hash); err != nil || len(f.Anchor.Hash) != HashSize || f.Seq < 1 {
		return nil, fmt.Errorf("read audit anchor %s: not an anchor (seq %d, hash %q)", path, f.Seq, f.Hash)
	}
	return &f.Anchor, nil
}

// WriteAnchor replaces the anchor at path atomically and durably: it writes
// path+".tmp", syncs it, renames it over path and syncs the directory, so
// a power cut leaves the old anchor or the new one, whole. Callers
// serialize their writes (the store holds the database's write lock).
func WriteAnchor(path string, a Anchor) error {
	b, err := json.Marshal(anchorFile{Anchor: a, Hash: hex.EncodeToString(a.Hash)})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write audit anchor: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
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
		return fmt.Errorf("write audit anchor: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write audit anchor: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory;
// its renames are journaled by NTFS.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Check compares a verified log with its anchor: the log holds count
// events, and hashAt returns the hash of its event seq (nil if none). A log
// that ends before the anchored event has lost its tail; one whose event at
// the anchor's place differs was rewritten. A log ahead of its anchor is
// fine: the anchor is written after each commit, so a crash between the two
// leaves it behind, never ahead. A nil anchor checks nothing.
func (a *Anchor) Check(count int64, hashAt func(seq int64) []byte) error {
	if a == nil {
		return nil
	}
	if count < a.Seq {
		return fmt.Errorf("%w: %d audit events lost after #%d; last known application key %s (application %d, event #%d)",
			ErrTailLost, a.Seq-count, count, a.keyName(), a.ApplicationID, a.Seq)
	}
	if h := hashAt(a.Seq); !bytes.Equal(h, a.Hash) {
		return fmt.Errorf("%w: event %d hashes to %s, but the anchor recorded %s: the log was replaced after it; last known application key %s",
			ErrBroken, a.Seq, short(h), short(a.Hash), a.keyName())
	}
	return nil
}

func (a *Anchor) keyName() string {
	if a.IdempotencyKey == "" {
		return "(none)"
	}
	return a.IdempotencyKey
}
