package uplink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	expslog "golang.org/x/exp/slog"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// scannedPage is the size of one real bilevel A4 scan (CCITT G4 in a PDF),
// MEASUREMENTS.md's "scanned page sizes".
const scannedPage = 28_500

// BenchmarkLinkBusy measures how busy motcua keeps the weak link with
// small applications: one scanned page of 28.5 KB each, and three pages of
// about 100 KB each, without cuts and (three pages) with a cut every
// 256 KB. Each case has, in the same run, the one-upload baseline: one tus
// upload of the same bytes through the same link (resumed from the
// server's offset after a cut), the most a client can get from it. Run it
// once:
// go test -run '^$' -bench LinkBusy -benchtime 1x -timeout 60m ./sync/uplink/
// (MOTCUA_BENCH_APPS=8 for a quicker look; 20 applications by default).
func BenchmarkLinkBusy(b *testing.B) {
	apps := 20
	if n, err := strconv.Atoi(os.Getenv("MOTCUA_BENCH_APPS")); err == nil && n > 0 {
		apps = n
	}
	cases := []struct {
		name  string
		pages int
		size  func(i, j int) int
		cuts  bool
	}{
		{"1page", 1, func(int, int) int { return scannedPage }, false},
		{"3pages", 3, func(i, j int) int { return 95<<10 + int(uint(i*7919+j*104729)%(10<<10)) }, false},
		{"3pages-cuts", 3, func(i, j int) int { return 95<<10 + int(uint(i*7919+j*104729)%(10<<10)) }, true},
	}
	for _, c := range cases {
		pages := make([][][]byte, apps)
		for i := range pages {
			for j := 0; j < c.pages; j++ {
				pages[i] = append(pages[i], page(c.size(i, j), uint64(i*3+j+1000)))
			}
		}
		b.Run(c.name+"/motcua", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				deliverOverLink(b, pages, c.cuts)
			}
		})
		b.Run(c.name+"/one-upload", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				oneUploadOverLink(b, pages, c.cuts)
			}
		})
	}
}

// deliverOverLink queues one application per element of pages and delivers
// them all with motcua sync's worker through the weak link.
func deliverOverLink(b *testing.B, pages [][][]byte, cuts bool) {
	ctx := context.Background()
	p, err := portal.Open(ctx, portal.Config{OpenEnrollment: true, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var wire atomic.Int64
	link := benchLink(b, p.Handler(), &wire, cuts)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), store.FileName), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	payload := 0
	for k, pg := range pages {
		var atts []store.NewAttachment
		for _, c := range pg {
			atts = append(atts, store.NewAttachment{EvidenceKey: "birth_certificate", Name: "p.pdf", MediaType: "application/pdf", Content: c})
			payload += len(c)
		}
		if _, err := st.Create(ctx, store.NewApplication{IdempotencyKey: fmt.Sprintf("bench-key-%05d", k), ProcedureID: "birth-registration",
			CatalogVersion: "2026.11.1", Form: exampleForm(b), Attachments: atts}, "queued"); err != nil {
			b.Fatal(err)
		}
	}
	w, err := New(Config{Portal: link, Store: st, ProbeInterval: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	// Enrolling is not part of the measure: one request, once per kiosk.
	if err := w.enroll(ctx); err != nil {
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
	if len(subs) != len(pages) {
		b.Fatalf("%d of %d filed", len(subs), len(pages))
	}
	report(b, "motcua", len(pages), len(pages), payload, payload, wire.Load(), took)
}

// oneUploadOverLink sends all the pages' bytes as one tus upload through
// the weak link to a bare tusd server, resuming from its offset after a
// cut.
func oneUploadOverLink(b *testing.B, pages [][][]byte, cuts bool) {
	var all []byte
	for _, pg := range pages {
		for _, c := range pg {
			all = append(all, c...)
		}
	}
	composer := tushandler.NewStoreComposer()
	filestore.New(b.TempDir()).UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := tushandler.NewHandler(tushandler.Config{BasePath: "/files/", StoreComposer: composer, Logger: expslog.New(expslog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	var wire atomic.Int64
	link := benchLink(b, http.StripPrefix("/files/", h), &wire, cuts)
	do := func(method, u string, hdr map[string]string, body []byte) (*http.Response, error) {
		req, _ := http.NewRequest(method, u, bytes.NewReader(body))
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	start := time.Now()
	// Without cuts the upload is created with all its bytes, one request;
	// with cuts it is created empty, so its URL is known before a cut.
	var first []byte
	hdr := map[string]string{"Upload-Length": strconv.Itoa(len(all))}
	if !cuts {
		first = all
		hdr["Content-Type"] = "application/offset+octet-stream"
	}
	resp, err := do(http.MethodPost, link+"/files/", hdr, first)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create: %v %v", resp, err)
	}
	u := link + "/files/" + filepath.Base(resp.Header.Get("Location"))
	off, _ := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	for tries := 0; off < len(all); tries++ {
		if tries > 200 {
			b.Fatal("no progress")
		}
		resp, err := do(http.MethodPatch, u, map[string]string{"Upload-Offset": strconv.Itoa(off), "Content-Type": "application/offset+octet-stream"}, all[off:])
		if err == nil && resp.StatusCode == http.StatusNoContent {
			break
		}
		if resp, err = do(http.MethodHead, u, nil, nil); err != nil {
			continue
		}
		off, _ = strconv.Atoi(resp.Header.Get("Upload-Offset"))
	}
	took := time.Since(start)
	report(b, "one upload", len(pages), len(pages), len(all), len(all), wire.Load(), took)
}

func benchLogger() *slog.Logger {
	if os.Getenv("MOTCUA_BENCH_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
