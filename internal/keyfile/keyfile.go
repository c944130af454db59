// Package keyfile keeps a small secret key in a file of its own: made once,
// readable by its owner only, never half-written, and the same for every
// process that races to make it.
package keyfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Read reads the key of size bytes at path; a missing file is (nil, nil).
func Read(path string, size int) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(key) != size {
		return nil, fmt.Errorf("read key %s: %d bytes, want %d", path, len(key), size)
	}
	return key, nil
}

// LoadOrCreate returns the key of size bytes at path, making a random one
// (mode 0600) if there is none; created says this call made it. The key is
// written to a file of its own and linked into place, so when several
// processes race exactly one wins and the others read its key, whole.
func LoadOrCreate(path string, size int) (key []byte, created bool, err error) {
	if key, err := Read(path, size); key != nil || err != nil {
		return key, false, err
	}
	key = make([]byte, size)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return nil, false, fmt.Errorf("create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("create key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		key, err := Read(path, size)
		return key, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("create key: %w", err)
	}
	return key, true, nil
}
