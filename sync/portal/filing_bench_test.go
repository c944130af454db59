package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/internal/pgtest"
	"github.com/motcua/motcua/sync/portalapi"
)

// BenchmarkFiling files applications without attachments (the filing
// transaction and its HTTP round trip; signatures included) from 8 devices
// at once, over real HTTP on 127.0.0.1: on SQLite, and on PostgreSQL
// through one and through two portal processes sharing the database (each
// device's filings go to both in turn). ns/op is the time per filing at
// that concurrency.
//
//	go test -run '^$' -bench Filing -benchtime 2000x ./sync/portal/
func BenchmarkFiling(b *testing.B) {
	for _, bc := range []struct {
		name      string
		postgres  bool
		processes int
	}{
		{"sqlite", false, 1},
		{"postgres/1", true, 1},
		{"postgres/2", true, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			cfg := Config{OpenEnrollment: true, DataDir: dir, FilingInterval: -1}
			if bc.postgres {
				srv, err := pgtest.Shared()
				if err != nil {
					b.Skip(err)
				}
				if cfg.DatabaseURL, err = srv.NewDatabase(context.Background()); err != nil {
					b.Fatal(err)
				}
			} else if onPostgres() {
				b.Skip("the run asks for PostgreSQL")
			}
			var urls []string
			for range bc.processes {
				s, err := Open(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				srv := newServerB(b, s)
				urls = append(urls, srv)
			}
			const devices = 8
			tokens := make(chan string, devices)
			for i := range devices {
				tokens <- enrollB(b, urls[0], fmt.Sprintf("kiosk-%d", i))
			}
			var n atomic.Int64
			b.SetParallelism((devices + 1) / 2) // GOMAXPROCS x this goroutines, one device each
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				token := <-tokens
				defer func() { tokens <- token }()
				for i := 0; pb.Next(); i++ {
					key := fmt.Sprintf("key-bench-%08d", n.Add(1))
					req, _ := http.NewRequest("POST", urls[i%len(urls)]+portalapi.PathSubmissions, strings.NewReader(manifest(key)))
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 201 {
						b.Errorf("filing %s: %d", key, resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "filings/s")
		})
	}
}

func newServerB(b *testing.B, s *Server) string {
	b.Helper()
	srv := httptest.NewServer(s.Handler())
	b.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL
}

func enrollB(b *testing.B, url, name string) string {
	b.Helper()
	resp, err := http.Post(url+portalapi.PathEnroll, "application/json", strings.NewReader(`{"device_name":"`+name+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var e portalapi.EnrollResponse
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 201 {
		b.Fatalf("enroll: %d %v", resp.StatusCode, err)
	}
	return e.Token
}
