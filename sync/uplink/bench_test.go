package uplink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// The weak link of the benchmark: 32 KB/s up, 300 ms added to every
// answer, every connection cut after 256 KB sent (MEASUREMENTS.md).
const (
	linkRate    = 32_000 // bytes per second
	linkLatency = 300    // ms
	linkCut     = 262_144
)

// countingListener counts the bytes that arrive at the server: the upstream
// bytes on the wire, headers and abandoned requests included.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	c.n.Add(int64(k))
	return k, err
}

// benchLink starts h behind a counting listener and a toxiproxy proxy with
// the weak link's toxics (cuts optional), returning the proxy's URL.
func benchLink(b *testing.B, h http.Handler, wire *atomic.Int64, cuts bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(countingListener{ln, wire})
	b.Cleanup(func() { srv.Close() })
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(server, "link", "127.0.0.1:0", ln.Addr().String())
	if err := proxy.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(proxy.Stop)
	toxics := []string{
		fmt.Sprintf(`{"name":"bw","type":"bandwidth","stream":"upstream","attributes":{"rate":%d}}`, linkRate/1000),
		fmt.Sprintf(`{"name":"lat","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, linkLatency),
	}
	if cuts {
		toxics = append(toxics, fmt.Sprintf(`{"name":"cut","type":"limit_data","stream":"upstream","attributes":{"bytes":%d}}`, linkCut))
	}
	for _, tx := range toxics {
		if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(tx)); err != nil {
			b.Fatal(err)
		}
	}
	return "http://" + proxy.Listen
}

func benchApps() int {
	if n, err := strconv.Atoi(os.Getenv("MOTCUA_BENCH_APPS")); err == nil && n > 0 {
		return n
	}
	return 50
}

// BenchmarkWeakLink delivers applications of three ~100 KB pages through
// the weak link, with motcua's protocol and with the baseline that sends
// each application as one multipart POST and starts again from zero after a
// failure. It reports goodput (payload bytes delivered per second, as a
// share of the link rate) and wire bytes per payload byte. Run it once:
// go test -run '^$' -bench WeakLink -benchtime 1x ./sync/uplink/
// (MOTCUA_BENCH_APPS=10 for a quicker look).
func BenchmarkWeakLink(b *testing.B) {
	apps := benchApps()
	pages := make([][][]byte, apps)
	payload := 0
	for i := range pages {
		for j := 0; j < 3; j++ {
			p := page(95<<10+int(uint(i*7919+j*104729)%(10<<10)), uint64(i*3+j))
			pages[i] = append(pages[i], p)
			payload += len(p)
		}
	}
	b.Run("motcua", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ctx := context.Background()
			p, err := portal.Open(ctx, portal.Config{OpenEnrollment: true, DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			var wire atomic.Int64
			link := benchLink(b, p.Handler(), &wire, true)
			st, err := store.Open(ctx, filepath.Join(b.TempDir(), store.FileName), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			for k, pg := range pages {
				var atts []store.NewAttachment
				for _, c := range pg {
					atts = append(atts, store.NewAttachment{EvidenceKey: "birth_certificate", Name: "p.jpg", MediaType: "image/jpeg", Content: c})
				}
				if _, err := st.Create(ctx, store.NewApplication{IdempotencyKey: fmt.Sprintf("bench-key-%05d", k), ProcedureID: "birth-registration",
					CatalogVersion: "2026.11.1", Form: exampleForm(b), Attachments: atts}, "queued"); err != nil {
					b.Fatal(err)
				}
			}
			var logger *slog.Logger
			if os.Getenv("MOTCUA_BENCH_DEBUG") != "" {
				logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			w, err := New(Config{Portal: link, Store: st, ProbeInterval: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Logger: logger})
			if err != nil {
				b.Fatal(err)
			}
			wire.Store(0)
			start := time.Now()
			sum, err := w.Once(ctx)
			took := time.Since(start)
			if err != nil || sum.Remaining != 0 {
				b.Fatalf("Once = %+v, %v", sum, err)
			}
			subs, _ := p.List(ctx)
			if len(subs) != apps {
				b.Fatalf("%d of %d filed", len(subs), apps)
			}
			report(b, "motcua", apps, apps, payload, payload, wire.Load(), took)
			st.Close()
			p.Close()
		}
	})
	b.Run("one-POST-baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var delivered atomic.Int64
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseMultipartForm(8 << 20); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				delivered.Add(1)
				w.WriteHeader(http.StatusCreated)
			})
			var wire atomic.Int64
			link := benchLink(b, h, &wire, true)
			// The baseline gets as long as motcua needs for all of them at
			// the link rate, plus a tenth: it cannot do better than that.
			budget := time.Duration(float64(payload)/linkRate*1.1) * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), budget)
			start := time.Now()
			done, donePayload := 0, 0
			for k := 0; k < apps && ctx.Err() == nil; {
				body, ctype := multipartBody(pages[k])
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, link+"/submit", bytes.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusCreated {
					continue // start this application again from zero
				}
				for _, pg := range pages[k] {
					donePayload += len(pg)
				}
				done++
				k++
			}
			took := time.Since(start)
			cancel()
			report(b, "baseline", done, apps, donePayload, payload, wire.Load(), took)
		}
	})
}

func multipartBody(pages [][]byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("manifest", `{"procedure_id":"birth-registration"}`)
	for j, p := range pages {
		fw, _ := mw.CreateFormFile(fmt.Sprint("page_", j+1), "p.jpg")
		fw.Write(p)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func report(b *testing.B, name string, done, apps, deliveredPayload, payload int, wire int64, took time.Duration) {
	goodput := float64(deliveredPayload) / took.Seconds() / linkRate
	ratio := math.Inf(1) // bytes sent, nothing delivered
	if deliveredPayload > 0 {
		ratio = float64(wire) / float64(deliveredPayload)
	}
	b.ReportMetric(goodput, "goodput/link")
	b.ReportMetric(ratio, "wire/payload")
	b.ReportMetric(float64(done), "delivered")
	b.Logf("%s: %d of %d applications (%d of %d payload bytes) in %v; goodput %.3f of the link; %d wire bytes = %.3f x delivered payload",
		name, done, apps, deliveredPayload, payload, took.Round(time.Millisecond), goodput, wire, ratio)
}
