package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/speech"
)

func TestSayWritesTheNormalisedTextToAWAV(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fee.wav")
	r := cli(t, t.TempDir(), "", "say", "--voice", "vi-vn-x-south", "--rate", "2", "--out", out, "Lệ phí 105.000đ, hẹn ngày 12/05/2024")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if want := "Lệ phí một trăm lẻ năm ngàn đồng, hẹn ngày mười hai tháng năm năm hai ngàn không trăm hai mươi tư\n"; r.stdout != want {
		t.Errorf("printed %q, want %q", r.stdout, want)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := speech.ReadWAVInfo(f)
	if err != nil || info.Duration() < 2e9 {
		t.Errorf("%s: %+v, %v; want a WAV of a few seconds", out, info, err)
	}
}

func TestSayRefusesBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"say", "--rate", "9", "xin chào"},
		{"say", "--voice", "vi-north", "xin chào"},
		{"say", "--volume", "0", "xin chào"},
		{"say"},
	} {
		r := cli(t, t.TempDir(), "", args...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, "motcua say: ") {
			t.Errorf("%v: exit %d, %q; want a usage error naming what is wrong", args, r.code, r.stderr)
		}
	}
}
