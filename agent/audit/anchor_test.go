package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnchorRoundTripAndBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "head")
	if a, err := ReadAnchor(path); a != nil || err != nil {
		t.Fatalf("missing anchor: %+v, %v; want nil, nil", a, err)
	}
	want := Anchor{Seq: 30, Hash: bytes.Repeat([]byte{7}, HashSize), ApplicationID: 10, IdempotencyKey: "k9"}
	if err := WriteAnchor(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAnchor(path)
	if err != nil || got.Seq != want.Seq || !bytes.Equal(got.Hash, want.Hash) || got.ApplicationID != 10 || got.IdempotencyKey != "k9" {
		t.Fatalf("ReadAnchor = %+v, %v; want %+v", got, err, want)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	for _, bad := range []string{"", "{", `{"seq":3,"hash":"zz"}`, `{"seq":0,"hash":"` + strings.Repeat("00", HashSize) + `"}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if a, err := ReadAnchor(path); err == nil {
			t.Errorf("anchor %q read as %+v", bad, a)
		}
	}
}

func TestAnchorCheck(t *testing.T) {
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, HashSize) }
	a := &Anchor{Seq: 5, Hash: h(5), ApplicationID: 2, IdempotencyKey: "k2"}
	hashes := func(seq int64) []byte { return h(byte(seq)) }
	tests := []struct {
		name   string
		anchor *Anchor
		count  int64
		hashAt func(int64) []byte
		want   error
		msg    string
	}{
		{"no anchor", nil, 0, hashes, nil, ""},
		{"at the anchor", a, 5, hashes, nil, ""},
		{"ahead of the anchor", a, 9, hashes, nil, ""},
		{"behind the anchor", a, 2, hashes, ErrTailLost, "3 audit events lost after #2; last known application key k2"},
		{"empty log", a, 0, hashes, ErrTailLost, "5 audit events lost after #0"},
		{"rewritten", a, 9, func(int64) []byte { return h(1) }, ErrBroken, "last known application key k2"},
	}
	for _, tt := range tests {
		err := tt.anchor.Check(tt.count, tt.hashAt)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
			t.Errorf("%s: Check = %v, want %v with %q", tt.name, err, tt.want, tt.msg)
		}
	}
}
