package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

var (
	queueDataOnce sync.Once
	queueDataDir  string
	queueDataErr  error
)

// queueData returns a data directory holding 10,000 queued applications,
// built once per benchmark process through the store's Create.
func queueData(b *testing.B) string {
	queueDataOnce.Do(func() {
		dir, err := os.MkdirTemp("", "motcua-bench")
		if err != nil {
			queueDataErr = err
			return
		}
		queueDataDir = dir
		ctx := context.Background()
		s, err := store.Open(ctx, filepath.Join(dir, store.FileName), store.Options{})
		if err != nil {
			queueDataErr = err
			return
		}
		defer s.Close()
		for i := 0; i < 10000; i++ {
			_, err := s.Create(ctx, store.NewApplication{ProcedureID: "birth-registration", ProcedureCode: "1.001193",
				CatalogVersion: "2026.11.1", Form: json.RawMessage(`{"child_full_name":"Nguyễn Văn An"}`)}, application.Queued)
			if err != nil {
				queueDataErr = fmt.Errorf("fill: %w", err)
				return
			}
		}
	})
	if queueDataErr != nil {
		b.Fatal(queueDataErr)
	}
	return queueDataDir
}

// BenchmarkQueueCommand10000 runs `motcua queue` (table and --json) over
// 10,000 applications: open the database, list, format.
func BenchmarkQueueCommand10000(b *testing.B) {
	dir := queueData(b)
	for _, mode := range []string{"table", "json"} {
		b.Run(mode, func(b *testing.B) {
			args := []string{"queue", "--data-dir", dir}
			if mode == "json" {
				args = append(args, "--json")
			}
			for i := 0; i < b.N; i++ {
				if code := run(context.Background(), args, nil, io.Discard, io.Discard); code != 0 {
					b.Fatalf("queue exited %d", code)
				}
			}
		})
	}
}
