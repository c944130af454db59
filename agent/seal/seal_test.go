package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
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

// TestKeyFileOfAnotherUserIsRefused makes a KEK as root and opens it as
// another user (nobody, in a child process): refused, naming the owner.
// root itself may use the key of the data directory's owner.
func TestKeyFileOfAnotherUserIsRefused(t *testing.T) {
	if p := os.Getenv("MOTCUA_SEAL_OTHER_USER"); p != "" {
		_, err := LoadKEK(p, false)
		var ie *i18n.Error
		if !errors.Is(err, ErrKeyFile) || !errors.As(err, &ie) || !strings.Contains(err.Error(), "belongs to uid 0") ||
			!strings.Contains(ie.Msg.VI, "thuộc người dùng 0") {
			t.Fatalf("LoadKEK of root's key as uid %d = %v", os.Getuid(), err)
		}
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root, to run a child as another user")
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own temporary root
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "keys", "kek")
	if _, err := LoadKEK(path, true); err != nil {
		t.Fatal(err)
	}
	// The test binary is in a directory only root may enter: nobody runs
	// a copy.
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "seal.test")
	if err := os.WriteFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^TestKeyFileOfAnotherUserIsRefused$", "-test.v")
	cmd.Env = append(os.Environ(), "MOTCUA_SEAL_OTHER_USER="+path)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	// root is let through to another user's key.
	if err := os.Chown(filepath.Dir(path), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKEK(path, false); err != nil {
		t.Fatalf("root with nobody's key: %v", err)
	}
}
