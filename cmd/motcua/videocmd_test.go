package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `motcua video make-sample` makes the sample video in the data directory,
// with a picture and a voice-over, and `motcua video play` plays it by the
// file name the catalog gives, to its end.
func TestVideoMakeSampleAndPlay(t *testing.T) {
	data := t.TempDir()
	r := cli(t, data, "", "video", "make-sample")
	want := filepath.Join(data, "videos", "birth-registration.mp4")
	if r.code != exitOK || !strings.Contains(r.stdout, "made "+want) {
		t.Fatalf("make-sample: %+v", r)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", want).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	if got := strings.Fields(string(out)); len(got) != 2 || got[0] != "video" || got[1] != "audio" {
		t.Errorf("streams %q, want video and audio", got)
	}

	r = cli(t, data, "", "video", "play", "birth-registration.mp4", "--mpv-args", "--vo=null --ao=null --speed=50")
	if r.code != exitOK || !strings.Contains(r.stdout, "video ended: finished") || !strings.Contains(r.stdout, "by itself") {
		t.Fatalf("play: %+v", r)
	}
	// The timeout stops it over mpv's IPC socket.
	r = cli(t, data, "", "video", "play", want, "--timeout", "1ms", "--mpv-args", "--vo=null --ao=null")
	if r.code != exitOK || !strings.Contains(r.stdout, "video ended: timed_out") || !strings.Contains(r.stdout, "over mpv's IPC socket") {
		t.Fatalf("play with a timeout: %+v", r)
	}

	// At start, run keeps the video there.
	before, _ := os.Stat(want)
	var logs bytes.Buffer
	e := &env{dataDir: data, log: slog.New(slog.NewTextHandler(&logs, nil))}
	ensureSampleVideo(context.Background(), e)
	after, err := os.Stat(want)
	if err != nil || !after.ModTime().Equal(before.ModTime()) || logs.Len() != 0 {
		t.Errorf("ensureSampleVideo replaced the video or said something: %v\n%s", err, logs.String())
	}
}

// A video that is not there is named, and a sample that cannot be made
// says why; run goes on without it, with a warning.
func TestVideoFailures(t *testing.T) {
	data := t.TempDir()
	r := cli(t, data, "", "video", "play", "death-registration.mp4")
	if r.code != exitFail || !strings.Contains(r.stderr, filepath.Join(data, "videos", "death-registration.mp4")) || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("play a missing video: %+v", r)
	}
	blocker := writeFile(t, data, "videos", "a file where the videos folder should be")
	if r := cli(t, data, "", "video", "make-sample"); r.code != exitFail || !strings.Contains(r.stderr, blocker) {
		t.Errorf("make-sample into a file: %+v", r)
	}
	var logs bytes.Buffer
	e := &env{dataDir: data, log: slog.New(slog.NewTextHandler(&logs, nil))}
	ensureSampleVideo(context.Background(), e)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "sample video not made") {
		t.Errorf("ensureSampleVideo logged %q, want a warning", logs.String())
	}
	for _, args := range [][]string{{"video"}, {"video", "play"}, {"video", "make"}, {"video", "play", "a", "b"}} {
		if r := cli(t, data, "", args...); r.code != exitUsage || !strings.Contains(r.stderr, "usage: motcua video") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// make-sample onto a full disk says so in both languages, as the other
// commands do, and leaves no half-made video behind.
func TestVideoMakeSampleOntoAFullDisk(t *testing.T) {
	disk := smallDisk(t, "256k")
	fillDisk(t, disk)
	r := cli(t, t.TempDir(), "", "video", "make-sample", "--out", disk)
	out := filepath.Join(disk, "birth-registration.mp4")
	if r.code != exitFail || !strings.Contains(r.stderr, "The disk is full: "+out+" cannot be written (") ||
		!strings.Contains(r.stderr, "Ổ đĩa đầy: không ghi được vào "+out+" (") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 1 {
		t.Errorf("left on the full disk: %v", entries)
	}
}
