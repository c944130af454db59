package sim

import (
	"os"
	"path/filepath"
	"testing"
)

// A link a killed simulator left behind is replaced, and a simulator that
// closes leaves alone the link a newer one made on the same path.
func TestStaleLinkIsReplacedAndANewerOneKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim", "card-reader")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/pts/999999", path); err != nil {
		t.Fatal(err)
	}
	old, err := NewCardReader(path, SamplePayloads)
	if err != nil {
		t.Fatalf("over a stale link: %v", err)
	}
	if target, _ := os.Readlink(path); target != old.dev {
		t.Fatalf("link points to %q, want the simulator's %q", target, old.dev)
	}
	newer, err := NewCardReader(path, SamplePayloads)
	if err != nil {
		t.Fatal(err)
	}
	defer newer.Close()
	old.Close()
	if target, _ := os.Readlink(path); target != newer.dev {
		t.Fatalf("closing the older simulator left the link at %q, want the newer's %q", target, newer.dev)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only the link", len(entries))
	}
}
