package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/motcua/motcua/sync/portalapi"
)

// scrape serves the portal's metrics on a listener of their own, as
// motcua portal --metrics-listen does, and reads them once.
func (p *testPortal) scrape() map[string]*dto.MetricFamily {
	p.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ServeMetrics(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			p.t.Error(err)
		}
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		p.t.Fatalf("metrics are not the Prometheus text format: %v", err)
	}
	return fams
}

// counter returns the value of a counter with the given label, or -1 when
// there is none.
func counter(fams map[string]*dto.MetricFamily, name, label, value string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

// After filings and refusals, the metrics count them by kind and by error
// code, time the requests by route, and no label names a device, a file
// code or an upload.
func TestMetricsCountFilingsAndRefusalsByReason(t *testing.T) {
	p := newPortal(t)
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000001"), &rc); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	// The same key again is not a new filing.
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000001"), nil); code != 200 {
		t.Fatalf("repeat: %d", code)
	}
	p.upload("key-00000004", []byte("scan"), 4)
	var perr portalapi.Error
	if code := p.do("POST", portalapi.PathSubmissions, nil, `{"idempotency_key":"x"}`, &perr); code != 422 || perr.Code != portalapi.CodeMalformed {
		t.Fatalf("malformed manifest: %d %+v", code, perr)
	}
	// An upload of two applications: one filed, one whose bytes do not match.
	a, b := bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 4000)
	mk := func(key string, off int64, data []byte, sum string) portalapi.Manifest {
		return portalapi.Manifest{IdempotencyKey: key, ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
			CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(),
			Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "p", MediaType: "application/pdf",
				Size: int64(len(data)), SHA256: sum, Offset: off}}}
	}
	status, fs := p.batchUpload("batch-0001", []portalapi.Manifest{mk("key-00000002", 0, a, hexSum(a)), mk("key-00000003", 3000, b, hexSum(a))},
		append(append([]byte{}, a...), b...), nil)
	if status != http.StatusCreated || len(fs) != 2 || fs[0].Receipt == nil || fs[1].Error == nil {
		t.Fatalf("shared upload: %d %+v", status, fs)
	}
	token := p.token
	p.token = "wrong"
	if code := p.do("GET", portalapi.PathStatus, nil, "", nil); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	p.token = token
	if code := p.do("GET", portalapi.PathTrack+"no-such-code", nil, "", nil); code != 404 {
		t.Fatalf("unknown track code: %d", code)
	}

	fams := p.scrape()
	for _, tt := range []struct {
		name, label, value string
		want               float64
	}{
		{"motcua_portal_filings_total", "kind", filingSingle, 1},
		{"motcua_portal_filings_total", "kind", filingShared, 1},
		{"motcua_portal_refusals_total", "reason", portalapi.CodeMalformed, 1},
		{"motcua_portal_refusals_total", "reason", portalapi.CodeChecksumMismatch, 1},
		{"motcua_portal_refusals_total", "reason", portalapi.CodeUnauthorized, 1},
		{"motcua_portal_refusals_total", "reason", "http_404", 1},
	} {
		if got := counter(fams, tt.name, tt.label, tt.value); got != tt.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tt.name, tt.label, tt.value, got, tt.want)
		}
	}
	lat := fams["motcua_portal_request_duration_seconds"]
	if lat == nil {
		t.Fatal("no latency histogram")
	}
	routes := map[string]uint64{}
	for _, m := range lat.Metric {
		h := m.GetHistogram()
		if n := len(h.GetBucket()); n != len(latencyBuckets)+1 { // and +Inf
			t.Errorf("%d buckets, want %d", n, len(latencyBuckets))
		}
		routes[m.Label[0].GetValue()] = h.GetSampleCount()
	}
	for route, want := range map[string]uint64{"submissions": 3, "upload_post": 2, "upload_patch": 1, "enroll": 1, "status": 1, "track": 1} {
		if routes[route] != want {
			t.Errorf("latency of %s: %d requests, want %d (all: %v)", route, routes[route], want, routes)
		}
	}
	if got := fams["motcua_portal_received_bytes_total"].GetMetric()[0].GetCounter().GetValue(); got < 7000 {
		t.Errorf("received %v bytes, want at least the 7000 of the uploads", got)
	}
	if got := fams["motcua_portal_uploads_in_flight"].GetMetric()[0].GetGauge().GetValue(); got != 0 {
		t.Errorf("%v uploads in flight after they all ended", got)
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "motcua_portal_") {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.Contains(v, p.device) || strings.Contains(v, rc.FileCode) || strings.Contains(v, "key-") {
					t.Errorf("%s has label %s=%q: a device, file code or key", name, l.GetName(), v)
				}
			}
		}
	}
}

// The metrics are not on the portal's own listener, where kiosks and
// citizens reach it: only on the operators' (ServeMetrics).
func TestMetricsAreNotServedToKiosks(t *testing.T) {
	p := newPortal(t)
	for _, token := range []string{"", p.token} {
		req, _ := http.NewRequest("GET", p.url+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(b, []byte("motcua_portal_")) {
			t.Errorf("GET /metrics on the portal's listener (token %t): %d %.80q", token != "", resp.StatusCode, b)
		}
	}
}

func (p *testPortal) health() (int, portalapi.Health) {
	p.t.Helper()
	var h portalapi.Health
	resp, err := http.Get(p.url + portalapi.PathHealth)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		p.t.Fatalf("health: %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, h
}

// The health check answers 503 naming what is broken: the database or the
// uploads directory.
func TestHealthNamesWhatFailed(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, p *testPortal)
		want  []string
	}{
		{"healthy", func(*testing.T, *testPortal) {}, nil},
		{"database closed", func(t *testing.T, p *testPortal) { p.Close() }, []string{healthDatabase}},
		{"uploads unwritable (not a directory, or the bucket gone)", func(t *testing.T, p *testPortal) {
			p.spoilUploads(t)
		}, []string{healthUploads}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPortal(t)
			tt.spoil(t, p)
			code, h := p.health()
			if h.Instance != p.Instance() || !slices.Equal(h.Failed, tt.want) {
				t.Errorf("health: %d %+v, want instance %s and failed %v", code, h, p.Instance(), tt.want)
			}
			if want := map[bool]int{true: 200, false: 503}[tt.want == nil]; code != want {
				t.Errorf("health: %d, want %d", code, want)
			}
		})
	}
}

// gauge returns the value of an unlabelled gauge.
func gauge(fams map[string]*dto.MetricFamily, name string) float64 {
	return fams[name].GetMetric()[0].GetGauge().GetValue()
}

// An upload whose bytes are still arriving is in flight until its request
// ends.
func TestMetricsCountUploadsInFlight(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("trang scan "), 1000)
	loc := p.upload("key-00000001", content, 0)
	if !strings.HasPrefix(loc, "http") {
		loc = p.url + loc
	}
	pr, pw := io.Pipe()
	req, err := http.NewRequest("PATCH", loc, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(content))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Authorization", "Bearer "+p.token)
	// The enrollment's and creation's bodies are counted too: the PATCH's
	// bytes are those past what was received before it.
	before := p.scrape()["motcua_portal_received_bytes_total"].GetMetric()[0].GetCounter().GetValue()
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write(content[:100]); err != nil {
		t.Fatal(err)
	}
	// The portal has read the first bytes once they are counted; the
	// request is still open, its last bytes not sent.
	for {
		fams := p.scrape()
		if fams["motcua_portal_received_bytes_total"].GetMetric()[0].GetCounter().GetValue() >= before+100 {
			if got := gauge(fams, "motcua_portal_uploads_in_flight"); got != 1 {
				t.Errorf("%v uploads in flight during a PATCH, want 1", got)
			}
			break
		}
	}
	pw.Write(content[100:])
	pw.Close()
	if code := <-done; code != http.StatusNoContent {
		t.Fatalf("PATCH: %d", code)
	}
	if got := gauge(p.scrape(), "motcua_portal_uploads_in_flight"); got != 0 {
		t.Errorf("%v uploads in flight after the PATCH, want 0", got)
	}
}
