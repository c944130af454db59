package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/agent/application"
)

// pages returns n pseudo-random attachments of size bytes: incompressible,
// like scanned JPEG pages.
func pages(n, size int, seed uint64) []NewAttachment {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]NewAttachment, n)
	for i := range out {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		out[i] = NewAttachment{EvidenceKey: fmt.Sprint("page", i), Name: fmt.Sprintf("trang-%d.jpg", i+1),
			MediaType: "image/jpeg", Content: b}
	}
	return out
}

// BenchmarkCreateThreeAttachments stores one application with three 100 KB
// attachments and queues it: one durable (synchronous=FULL) transaction.
func BenchmarkCreateThreeAttachments(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	atts := pages(3, 100<<10, 1)
	ctx := context.Background()
	b.SetBytes(3 * 100 << 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Create(ctx, newApp(fmt.Sprint("k", i), atts...), application.Queued); err != nil {
			b.Fatal(err)
		}
	}
}

// fill stores n queued applications without attachments, for benchmarks of
// listing: the same code as Create, in one transaction to keep set-up short.
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	path := []application.State{application.Ready, application.Queued}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := s.create(ctx, tx, newApp(fmt.Sprint("fill-", i)), path, s.now(), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkList10000 lists a queue of 10,000 applications, as `motcua queue`
// does.
func BenchmarkList10000(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		list, err := s.List(ctx, ListOptions{})
		if err != nil || len(list) != 10000 {
			b.Fatalf("List: %d, %v", len(list), err)
		}
	}
}

// BenchmarkOpenWith1000Scanned opens a database of 1,000 applications of
// three 100 KB scanned pages each (about 300 MB) for writing, as every
// submit does: the quick_check reads every page first.
func BenchmarkOpenWith1000Scanned(b *testing.B) {
	path := filepath.Join(b.TempDir(), FileName)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	atts := pages(3, 100<<10, 1)
	state := []application.State{application.Ready, application.Queued}
	for i := 0; i < 1000; i += 100 {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			for j := i; j < i+100; j++ {
				if _, err := s.create(ctx, tx, newApp(fmt.Sprint("k", j), atts...), state, s.now(), 3*100<<10); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
