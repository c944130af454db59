package writable

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
)

// A write to /dev/full fails as a full disk does (ENOSPC): Explain tells it
// in both languages with the path and the free space, and keeps the cause.
func TestExplainWriteOnFullDisk(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer f.Close()
	_, werr := f.Write([]byte("receipt"))
	if werr == nil {
		t.Fatal("writing /dev/full succeeded")
	}
	x := Explain(werr)
	var ie *i18n.Error
	var pe *fs.PathError
	if !errors.Is(x, ErrDiskFull) || !errors.As(x, &ie) || !errors.As(x, &pe) || ie.Code != CodeDiskFull {
		t.Fatalf("Explain(%v) = %v (%T)", werr, x, x)
	}
	if !strings.HasPrefix(ie.Msg.EN, "The disk is full: /dev/full cannot be written (") || !strings.Contains(ie.Msg.EN, " free)") ||
		!strings.HasPrefix(ie.Msg.VI, "Ổ đĩa đầy: không ghi được vào /dev/full (còn trống ") {
		t.Errorf("message %q / %q", ie.Msg.EN, ie.Msg.VI)
	}
	if again := Explain(x); again != x {
		t.Errorf("explained twice: %v", again)
	}
	// Errors that are not a write refused for space or a read-only file
	// system stay as they are.
	_, missing := os.Open(filepath.Join(t.TempDir(), "missing"))
	for _, err := range []error{missing, errors.New("other"), nil} {
		if got := Explain(err); got != err {
			t.Errorf("Explain(%v) = %v", err, got)
		}
	}
}

// Check passes a directory this process can write, or create, and names
// the file it cannot write, with its owner.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := Check(dir); err != nil {
		t.Fatalf("Check(%s) = %v", dir, err)
	}
	if err := Check(filepath.Join(dir, "new", "data")); err != nil {
		t.Fatalf("Check of a directory to create: %v", err)
	}
	db := filepath.Join(dir, "motcua.db")
	if err := os.WriteFile(db, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir, "motcua.db", "motcua.db-wal"); err != nil {
		t.Fatalf("Check with a writable file: %v", err)
	}
	// A file this process cannot write: read-only for a user, immutable
	// for root, whom permissions do not stop.
	want := "cannot write " + db + " (owned by "
	if os.Geteuid() == 0 {
		if err := exec.Command("chattr", "+i", db).Run(); err != nil {
			t.Skip("chattr +i not available here:", err)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", db).Run() })
		want = db + " cannot be written (owned by "
	} else if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	err := Check(dir, "motcua.db")
	var ie *i18n.Error
	if !errors.Is(err, ErrNotWritable) || !errors.As(err, &ie) || ie.Code != CodeNotWritable {
		t.Fatalf("Check of a read-only file = %v (%T)", err, err)
	}
	me, _ := user.Current()
	if !strings.Contains(ie.Msg.EN, want+me.Username+", mode -r") || !strings.Contains(ie.Msg.VI, db) || strings.Contains(ie.Msg.EN+ie.Msg.VI, "%!") {
		t.Errorf("message %q / %q, want it to contain %q", ie.Msg.EN, ie.Msg.VI, want+me.Username)
	}
}
