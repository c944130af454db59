package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

// writeCounter counts the writes made to it and their sizes.
type writeCounter struct {
	out    strings.Builder
	writes []int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.out.Write(p)
}

// failingWriter fails every write, as standard output does when its reader
// has gone.
type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

// queueDir returns a data directory holding n queued applications.
func queueDir(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < n; i++ {
		_, err := s.Create(ctx, store.NewApplication{ProcedureID: "birth-registration", ProcedureCode: "1.001193",
			CatalogVersion: "2026.11.1", Form: json.RawMessage(`{"child_full_name":"Nguyễn Văn An"}`)}, application.Queued)
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Before the fix `motcua queue` wrote its table cell by cell: 130,015
// write calls for 10,000 rows. Every write but the last must now carry a
// full buffer.
func TestQueueDoesNotWriteCellByCell(t *testing.T) {
	const rows = 300
	dir := queueDir(t, rows)
	var w writeCounter
	if code := run(context.Background(), []string{"queue", "--data-dir", dir}, nil, &w, io.Discard); code != 0 {
		t.Fatalf("queue exited %d", code)
	}
	if lines := strings.Count(w.out.String(), "\n"); lines != rows+1 {
		t.Fatalf("queue printed %d lines, want a header and %d rows:\n%s", lines, rows, w.out.String())
	}
	for i, n := range w.writes[:len(w.writes)-1] {
		if n < 4096 {
			t.Fatalf("write %d of %d carries %d bytes (%d writes for %d bytes): not buffered",
				i+1, len(w.writes), n, len(w.writes), w.out.Len())
		}
	}
	t.Logf("%d rows: %d bytes in %d write(s)", rows, w.out.Len(), len(w.writes))
}

// The buffer is flushed on every way out: an empty queue's message, and
// a failed write, which makes queue fail instead of exiting 0 with its
// output lost.
func TestQueueFlushesOnEveryPath(t *testing.T) {
	var w writeCounter
	if code := run(context.Background(), []string{"queue", "--data-dir", t.TempDir()}, nil, &w, io.Discard); code != 0 ||
		!strings.Contains(w.out.String(), "The queue is empty") {
		t.Fatalf("empty queue: exit %d, printed %q", code, w.out.String())
	}
	dir := queueDir(t, 3)
	for _, args := range [][]string{{"queue"}, {"queue", "--json"}} {
		var stderr strings.Builder
		code := run(context.Background(), append(args, "--data-dir", dir), nil, failingWriter{}, &stderr)
		if code != exitFail || !strings.Contains(stderr.String(), "broken pipe") {
			t.Errorf("%v to a broken pipe: exit %d, said %q; want 1 naming the error", args, code, stderr.String())
		}
	}
}
