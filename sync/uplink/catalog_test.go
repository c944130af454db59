package uplink

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// catalogRig is a portal publishing cat, and a kiosk store.
func catalogRig(t *testing.T, cat *procedure.Catalog, pulls *atomic.Int64) *Worker {
	t.Helper()
	ctx := context.Background()
	p, err := portal.Open(ctx, portal.Config{OpenEnrollment: true, DataDir: t.TempDir(), Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/catalog") {
			pulls.Add(1)
		}
		p.Handler().ServeHTTP(w, r)
	}))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); p.Close(); st.Close() })
	w, err := New(Config{Portal: srv.URL, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCatalogPull(t *testing.T) {
	emb, _ := procedure.Embedded()
	next := *emb
	next.Version = "2999.1.1"
	var pulls atomic.Int64
	w := catalogRig(t, &next, &pulls)
	ctx := context.Background()
	if _, err := w.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ := w.cfg.Store.Catalogs(ctx)
	cur, err := procedure.Current(stored)
	if err != nil || cur.Version != "2999.1.1" {
		t.Fatalf("after the pull the kiosk uses %v, %v", cur.Version, err)
	}
	// The next pass asks with the version it has and gets nothing new.
	if _, err := w.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, _ := w.cfg.Store.Catalogs(ctx); len(stored) != 1 || pulls.Load() != 2 {
		t.Fatalf("%d catalogs stored after %d pulls", len(stored), pulls.Load())
	}
}

func TestCatalogPullRefusesABadCatalog(t *testing.T) {
	emb, _ := procedure.Embedded()
	bad := *emb
	bad.Version = "2999.1.1"
	bad.Procedures = append([]*procedure.Procedure{}, emb.Procedures...)
	bad.Procedures = append(bad.Procedures, emb.Procedures[0]) // a duplicate id
	var pulls atomic.Int64
	w := catalogRig(t, &bad, &pulls)
	if err := w.enroll(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := w.PullCatalog(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("PullCatalog = %v, want the catalog refused", err)
	}
	if stored, _ := w.cfg.Store.Catalogs(context.Background()); len(stored) != 0 {
		t.Fatal("a bad catalog was stored")
	}
}
