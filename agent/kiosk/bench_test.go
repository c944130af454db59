package kiosk

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// BenchmarkProcedures orders the catalog by use at a kiosk that has stored
// 5000 applications: the attract screen asks at every new citizen.
func BenchmarkProcedures(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), store.FileName), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := New(Config{Store: st, Catalog: catalogB(b)})
	procs := s.Catalog().Procedures
	for i := range 5000 {
		p := procs[i%len(procs)]
		if _, err := st.Create(ctx, store.NewApplication{ProcedureID: p.ID, CatalogVersion: s.Catalog().Version,
			Form: json.RawMessage(`{}`)}, application.Queued); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Procedures(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch is one keystroke of the procedure search.
func BenchmarkSearch(b *testing.B) {
	s := New(Config{Catalog: catalogB(b)})
	for b.Loop() {
		if len(s.Search("dang ky khai sinh")) == 0 {
			b.Fatal("nothing found")
		}
	}
}

func catalogB(b *testing.B) *procedure.Catalog {
	b.Helper()
	cat, err := procedure.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	return cat
}
