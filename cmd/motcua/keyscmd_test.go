package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/seal"
)

// keys rotate gives the data directory a new KEK file and everything
// submitted before reads as it did; --data seals it again under a new
// data key.
func TestKeysRotateKeepsApplicationsReadable(t *testing.T) {
	data := t.TempDir()
	ex := cli(t, data, "", "procedures", "example", "1.001193")
	form := writeFile(t, t.TempDir(), "form.json", ex.stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatalf("submit: %+v", r)
	}
	kek := seal.KEKPath(data)
	before, err := os.ReadFile(kek)
	if err != nil {
		t.Fatal(err)
	}
	if r := cli(t, data, "", "keys", "rotate"); r.code != 0 || !strings.Contains(r.stdout, "New key-encryption key") {
		t.Fatalf("keys rotate: %+v", r)
	}
	after, _ := os.ReadFile(kek)
	if bytes.Equal(before, after) {
		t.Fatal("keys rotate left the KEK file as it was")
	}
	if fi, _ := os.Stat(kek); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new KEK file has mode %o", fi.Mode().Perm())
	}
	if r := cli(t, data, "", "keys", "rotate", "--data"); r.code != 0 || !strings.Contains(r.stdout, "Data key 2 seals the 1 records again") {
		t.Fatalf("keys rotate --data: %+v", r)
	}
	if r := cli(t, data, "", "show", "1"); r.code != 0 || !strings.Contains(r.stdout, "Nguyễn Văn An") {
		t.Fatalf("show after the rotations: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(data, "keys", "kek.new")); err == nil {
		t.Fatal("kek.new left behind")
	}
}

// Doctor tells staff when the personal data cannot be opened: the key file
// others can read, or another machine's key, each named with what to do.
func TestDoctorSaysWhenTheKeyIsRefusedOrWrong(t *testing.T) {
	data := t.TempDir()
	ex := cli(t, data, "", "procedures", "example", "1.001193")
	form := writeFile(t, t.TempDir(), "form.json", ex.stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatalf("submit: %+v", r)
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", "devices = \"real\"\n")
	kek := seal.KEKPath(data)
	if err := os.Chmod(kek, 0o644); err != nil {
		t.Fatal(err)
	}
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	line, hint := doctorLine(t, r.stdout, "database")
	if !strings.HasPrefix(line, "FAIL database: ") || !strings.Contains(line, kek) || len(hint) != 2 ||
		!strings.Contains(hint[0], "chmod 600") || r.code != exitFail {
		t.Errorf("a KEK others can read: %q %q (exit %d)", line, hint, r.code)
	}
	os.Remove(kek)
	if err := seal.WriteKEK(kek, bytes.Repeat([]byte{7}, seal.KeySize)); err != nil {
		t.Fatal(err)
	}
	r = cliEnv(t, data, nil, "doctor", "--config", cfg)
	if line, hint := doctorLine(t, r.stdout, "database"); !strings.HasPrefix(line, "FAIL database: ") ||
		!strings.Contains(line, "Wrong key") || len(hint) != 2 || !strings.HasPrefix(hint[0], "Sai khoá") {
		t.Errorf("another machine's KEK: %q %q", line, hint)
	}
}
