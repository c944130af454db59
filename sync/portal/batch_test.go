package portal

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// batchUpload sends, in one creating POST, an upload of several
// applications: the deflated manifests, then content. It returns the
// answer's status and filings.
func (p *testPortal) batchUpload(name string, ms []portalapi.Manifest, content []byte, block []byte) (int, []portalapi.Filing) {
	p.t.Helper()
	if block == nil {
		raw, _ := json.Marshal(ms)
		var b bytes.Buffer
		zw, _ := flate.NewWriter(&b, flate.BestCompression)
		zw.Write(raw)
		zw.Close()
		block = b.Bytes()
	}
	body := append(append([]byte{}, block...), content...)
	resp := p.tusRequest("POST", portalapi.PathUploads, map[string]string{
		"Upload-Length": strconv.Itoa(len(body)), "Content-Type": "application/offset+octet-stream",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, ms[0].IdempotencyKey, portalapi.MetaUploadName, name,
			portalapi.MetaManifests, strconv.Itoa(len(block)))}, body)
	var fs []portalapi.Filing
	if h := resp.Header.Get(portalapi.HeaderReceipts); h != "" {
		if err := json.Unmarshal([]byte(h), &fs); err != nil {
			p.t.Fatalf("%s: %q", portalapi.HeaderReceipts, h)
		}
	}
	return resp.StatusCode, fs
}

// An upload of several applications (issue 9) files each when its last
// byte arrives and answers a filing per manifest, in order: a receipt, the
// first receipt again for a key filed before, and the error a manifest
// alone would get for one whose bytes do not match, without holding back
// the others.
func TestUploadOfSeveralApplicationsFilesEachAndAnswersEach(t *testing.T) {
	p := newPortal(t)
	a, b, c := bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 4000), bytes.Repeat([]byte("c"), 5000)
	att := func(data []byte, off int64, sum string) []portalapi.AttachmentRef {
		return []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "p", MediaType: "application/pdf",
			Size: int64(len(data)), SHA256: sum, Offset: off}}
	}
	mk := func(key string, atts []portalapi.AttachmentRef) portalapi.Manifest {
		return portalapi.Manifest{IdempotencyKey: key, ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
			CapturedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: atts}
	}
	var before portalapi.Receipt
	loc := p.upload("key-batch-0002", b, len(b))
	m2 := mk("key-batch-0002", att(b, 0, hexSum(b)))
	m2.Attachments[0].UploadURL = loc
	mj, _ := json.Marshal(m2)
	if code := p.do("POST", portalapi.PathSubmissions, nil, string(mj), &before); code != 201 {
		t.Fatalf("filing key-batch-0002 first: %d", code)
	}
	ms := []portalapi.Manifest{
		mk("key-batch-0001", att(a, 0, hexSum(a))),
		mk("key-batch-0002", att(b, 3000, hexSum(b))),
		mk("key-batch-0003", att(c, 7000, hexSum(a))), // the wrong hash
	}
	content := append(append(append([]byte{}, a...), b...), c...)
	status, fs := p.batchUpload("batch-0001", ms, content, nil)
	if status != http.StatusCreated || len(fs) != 3 {
		t.Fatalf("upload of 3 applications: %d, filings %+v", status, fs)
	}
	if fs[0].Receipt == nil || fs[0].Receipt.FileCode == "" || fs[0].Receipt.Duplicate {
		t.Errorf("first: %+v, want a new receipt", fs[0])
	}
	if fs[1].Receipt == nil || fs[1].Receipt.FileCode != before.FileCode || !fs[1].Receipt.Duplicate {
		t.Errorf("second: %+v, want the receipt %s again", fs[1], before.FileCode)
	}
	if fs[2].Receipt != nil || fs[2].Status != http.StatusUnprocessableEntity || fs[2].Error == nil ||
		fs[2].Error.Code != portalapi.CodeChecksumMismatch {
		t.Errorf("third: %+v, want 422 checksum_mismatch", fs[2])
	}
	list, _ := p.List(context.Background())
	if len(list) != 2 {
		t.Errorf("%d filed, want 2", len(list))
	}
}

// A manifest block that is not deflated manifests, or lies outside the
// upload, is refused as a whole and files nothing.
func TestUploadOfSeveralApplicationsWithBadBlockIsRefused(t *testing.T) {
	p := newPortal(t)
	m := portalapi.Manifest{IdempotencyKey: "key-batch-0009", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{}}
	if status, fs := p.batchUpload("batch-0009", []portalapi.Manifest{m}, []byte("x"), []byte("{not deflate}")); status != http.StatusUnprocessableEntity || fs != nil {
		t.Errorf("garbage block: %d %+v, want 422", status, fs)
	}
	if list, _ := p.List(context.Background()); len(list) != 0 {
		t.Errorf("%d filed", len(list))
	}
}

// The per-device filing limit counts each manifest of a shared upload: an
// upload of three when two filings fit files the first two, takes both
// tokens, and answers the third 429 rate_limited with its retry_after,
// keeping its bytes. After the wait, its manifest posted alone with
// upload_url, and its offset counted from the start of the upload, files
// it from those bytes.
func TestSharedUploadTakesAFilingPerManifestAndAnswersThoseOverTheBurst(t *testing.T) {
	p, clk := newPortalWith(t, Config{OpenEnrollment: true, FilingInterval: 10 * time.Second, FilingBurst: 2})
	data := [][]byte{bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 4000), bytes.Repeat([]byte("c"), 5000)}
	var ms []portalapi.Manifest
	var content []byte
	for i, d := range data {
		ms = append(ms, portalapi.Manifest{IdempotencyKey: fmt.Sprintf("key-burst-batch-%d", i), ProcedureID: "birth-registration",
			CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), Form: exampleForm(),
			Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "p", MediaType: "application/pdf",
				Size: int64(len(d)), SHA256: hexSum(d), Offset: int64(len(content))}}})
		content = append(content, d...)
	}
	raw, _ := json.Marshal(ms)
	var b bytes.Buffer
	zw, _ := flate.NewWriter(&b, flate.BestCompression)
	zw.Write(raw)
	zw.Close()
	block := b.Bytes()
	status, fs := p.batchUpload("batch-burst", ms, content, block)
	if status != http.StatusCreated || len(fs) != 3 {
		t.Fatalf("upload of 3 applications: %d, filings %+v", status, fs)
	}
	for i := range 2 {
		if fs[i].Receipt == nil {
			t.Errorf("filing %d: %+v, want a receipt within the burst", i, fs[i])
		}
	}
	if fs[2].Receipt != nil || fs[2].Status != http.StatusTooManyRequests || fs[2].Error == nil ||
		fs[2].Error.Code != portalapi.CodeRateLimited || fs[2].RetryAfter != 10 {
		t.Fatalf("filing past the burst: %+v, want 429 rate_limited with retry_after 10", fs[2])
	}
	// Both tokens were taken: a manifest alone is refused too.
	m := ms[2]
	m.Attachments[0].UploadURL = p.url + portalapi.PathUploads + p.device + "-batch-burst"
	m.Attachments[0].Offset += int64(len(block))
	mj, _ := json.Marshal(m)
	if code := p.do("POST", portalapi.PathSubmissions, nil, string(mj), nil); code != http.StatusTooManyRequests {
		t.Errorf("the third manifest at once: %d, want 429", code)
	}
	clk.Add(10 * time.Second)
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, string(mj), &rc); code != http.StatusCreated || rc.FileCode == "" {
		t.Errorf("the third manifest after the wait: %d %+v, want it filed from the shared upload", code, rc)
	}
	if list, _ := p.List(context.Background()); len(list) != 3 {
		t.Errorf("%d filed, want 3", len(list))
	}
}

// The answer to the request that completed a shared upload says when the
// upload expires only if it filed none of its applications: one that a
// filed application uses never expires, as for an upload carrying one
// manifest.
func TestSharedUploadThatFiledSaysNoExpiry(t *testing.T) {
	for _, burst := range []int{2, 0} {
		t.Run(fmt.Sprintf("burst %d", burst), func(t *testing.T) {
			cfg := Config{OpenEnrollment: true, FilingInterval: time.Minute, FilingBurst: max(burst, 1)}
			p, _ := newPortalWith(t, cfg)
			if burst == 0 {
				// The device's one filing is spent first.
				if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-expiry-spent"), nil); code != 201 {
					t.Fatalf("filing: %d", code)
				}
			}
			data := [][]byte{bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 4000)}
			var ms []portalapi.Manifest
			var content []byte
			for i, d := range data {
				ms = append(ms, portalapi.Manifest{IdempotencyKey: fmt.Sprintf("key-expiry-batch-%d", i), ProcedureID: "birth-registration",
					CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), Form: exampleForm(),
					Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "p", MediaType: "application/pdf",
						Size: int64(len(d)), SHA256: hexSum(d), Offset: int64(len(content))}}})
				content = append(content, d...)
			}
			raw, _ := json.Marshal(ms)
			var b bytes.Buffer
			zw, _ := flate.NewWriter(&b, flate.BestCompression)
			zw.Write(raw)
			zw.Close()
			body := append(b.Bytes(), content...)
			resp := p.tusRequest("POST", portalapi.PathUploads, map[string]string{
				"Upload-Length": strconv.Itoa(len(body)), "Content-Type": "application/offset+octet-stream",
				"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, ms[0].IdempotencyKey, portalapi.MetaUploadName, "batch-expiry",
					portalapi.MetaManifests, strconv.Itoa(b.Len()))}, body)
			var fs []portalapi.Filing
			if err := json.Unmarshal([]byte(resp.Header.Get(portalapi.HeaderReceipts)), &fs); err != nil || len(fs) != 2 {
				t.Fatalf("%d: receipts %q", resp.StatusCode, resp.Header.Get(portalapi.HeaderReceipts))
			}
			filed := fs[0].Receipt != nil
			if filed != (burst > 0) {
				t.Fatalf("filings %+v with a burst of %d", fs, burst)
			}
			if got := resp.Header.Get("Upload-Expires"); (got != "") == filed {
				t.Errorf("filed %v, Upload-Expires %q; want it only when nothing was filed", filed, got)
			}
		})
	}
}
