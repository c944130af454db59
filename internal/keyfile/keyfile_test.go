package keyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Processes racing to make the key all get the one that won, whole.
func TestLoadOrCreateRaceGivesOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if k, err := Read(path, 32); k != nil || err != nil {
		t.Fatalf("Read of no file = %x, %v; want nil, nil", k, err)
	}
	keys := make([][]byte, 8)
	created := make([]bool, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			var err error
			keys[i], created[i], err = LoadOrCreate(path, 32)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for i, k := range keys {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatalf("key %d = %x, key 0 = %x", i, k, keys[0])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d callers say they made the key, want 1", n)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files left in the directory, want only the key", len(entries))
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := Read(path, 32); err == nil {
		t.Error("a 5-byte key was read")
	}
}
