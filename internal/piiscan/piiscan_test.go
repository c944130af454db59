package piiscan

import (
	"os"
	"path/filepath"
	"testing"
)

// The scan finds a value in each encoding it claims, so that a clean
// result means something.
func TestDirFindsEveryEncoding(t *testing.T) {
	const name = "Nguyễn Thị Đào"
	for enc, b := range Encodings(name) {
		t.Run(enc, func(t *testing.T) {
			dir := t.TempDir()
			data := append([]byte("xx\x00"), b...)
			if err := os.WriteFile(filepath.Join(dir, "f"), append(data, 0, 1), 0o600); err != nil {
				t.Fatal(err)
			}
			hits, err := Dir(dir, name)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Fatalf("%s not found", enc)
			}
		})
	}
	hits, err := Dir(t.TempDir(), name)
	if err != nil || len(hits) != 0 {
		t.Fatalf("empty dir: %v, %v", hits, err)
	}
}
