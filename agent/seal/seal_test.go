package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testKeyring(t testing.TB) *Keyring {
	k := make([]byte, KeySize)
	rand.Read(k)
	r, err := NewKeyring(map[uint32][]byte{1: k}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpensOnlyInItsPlace(t *testing.T) {
	r := testKeyring(t)
	sealed := r.Seal([]byte("Nguyễn Văn An"), "personal_data", "7", "form", "data")
	if !Sealed(sealed) {
		t.Fatal("not marked sealed")
	}
	if got, err := r.Open(sealed, "personal_data", "7", "form", "data"); err != nil || string(got) != "Nguyễn Văn An" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, place := range [][]string{
		{"personal_data", "8", "form", "data"}, // another row
		{"personal_data", "7", "form", "name"}, // another field
		{"personal_data", "7form", "", "data"}, // the same bytes, split otherwise
		{"personal_data", "7", "attachment:1", "data"},
	} {
		if _, err := r.Open(sealed, place...); !errors.Is(err, ErrBroken) {
			t.Errorf("opened at %q: %v", place, err)
		}
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	if _, err := r.Open(flipped, "personal_data", "7", "form", "data"); !errors.Is(err, ErrBroken) {
		t.Errorf("a flipped byte opened: %v", err)
	}
	// The key version is bound too: a record relabelled as another
	// version does not open under it.
	k2 := make([]byte, KeySize)
	rand.Read(k2)
	r2, _ := NewKeyring(map[uint32][]byte{1: k2, 2: k2}, 2)
	s2 := r2.Seal([]byte("x"), "p")
	s2[7] = 1
	if _, err := r2.Open(s2, "p"); !errors.Is(err, ErrBroken) {
		t.Errorf("a record relabelled to version 1 opened: %v", err)
	}
	if _, err := r.Open(r2.Seal([]byte("x"), "p"), "p"); !errors.Is(err, ErrNoDataKey) {
		t.Errorf("a record under an unknown version: %v", err)
	}
}

func TestLoadKEKMakesAPrivateFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "kek")
	if _, err := LoadKEK(path, false); !errors.Is(err, ErrNoKEK) {
		t.Fatalf("LoadKEK without create = %v", err)
	}
	k, err := LoadKEK(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %o", p, fi.Mode().Perm(), err, want)
		}
	}
	again, err := LoadKEK(path, true)
	if err != nil || again.ID() != k.ID() {
		t.Fatalf("a second load made another key: %v", err)
	}
	os.WriteFile(path+"x", []byte("short"), 0o600)
	if _, err := LoadKEK(path+"x", false); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("a 5-byte key file = %v", err)
	}
}

// BenchmarkSeal300KB seals the three 100 KB attachments of
// store.BenchmarkCreateThreeAttachments: the cost sealing adds to it.
func BenchmarkSeal300KB(b *testing.B) {
	r := testKeyring(b)
	page := make([]byte, 100<<10)
	b.SetBytes(3 * 100 << 10)
	for b.Loop() {
		for range 3 {
			r.Seal(page, "personal_data", "1", "attachment:1", "data")
		}
	}
}
