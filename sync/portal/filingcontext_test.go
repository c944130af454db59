package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/sync/portalapi"
)

// completeUploadHook returns the hook tusd calls once the last byte of an
// upload carrying m has arrived, on ctx.
func (p *testPortal) completeUploadHook(ctx context.Context, m portalapi.Manifest, content []byte) tushandler.HookEvent {
	p.t.Helper()
	loc := p.upload(m.IdempotencyKey, content, len(content))
	id := uploadID(loc)
	up, err := p.uploads.GetUpload(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	info, err := up.GetInfo(context.Background())
	if err != nil || info.Offset != info.Size {
		p.t.Fatalf("upload %s: %+v, %v", id, info, err)
	}
	mj, _ := json.Marshal(m)
	info.MetaData[portalapi.MetaManifest] = p.sealText(string(mj), manifestPlace(id)...)
	kiosks.mu.Lock()
	key := kiosks.keys[p.device]
	kiosks.mu.Unlock()
	info.MetaData[portalapi.MetaSignature] = portalapi.Sign(key, portalapi.ManifestMessage(p.device, m.IdempotencyKey, mj))
	req, _ := http.NewRequestWithContext(ctx, "PATCH", p.abs(loc), nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	return tushandler.HookEvent{Context: ctx, Upload: info, HTTPRequest: tushandler.HTTPRequest{Method: "PATCH", URI: loc, Header: req.Header}}
}

// Filing ran on the request's context, which tusd cancels when the
// connection's read deadline (NetworkTimeout) passes or the kiosk goes:
// under a thousand kiosks a backlog's upload filing 32 applications took
// longer, and the filings left were cancelled half-way and answered 500
// (7,657 times in the load test). A filing once begun runs to its end.
func TestFilingCancelledHalfWayByTheRequestsContext(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("c"), 3000)
	m := portalapi.Manifest{IdempotencyKey: "key-cancelled-1", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 3000, SHA256: hexSum(content)}}}
	ctx, cancel := context.WithCancel(context.Background())
	hook := p.completeUploadHook(ctx, m, content)
	p.beforeFile = cancel // the network timeout strikes as the filing begins
	resp, err := p.preFinish(hook)
	if err != nil {
		t.Fatalf("filing whose request was cancelled half-way: %v", err)
	}
	var rc portalapi.Receipt
	if err := json.Unmarshal([]byte(resp.Header[portalapi.HeaderReceipt]), &rc); err != nil || rc.FileCode == "" {
		t.Fatalf("no receipt: %q, %v", resp.Header[portalapi.HeaderReceipt], err)
	}
	list, err := p.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("filed: %d, %v; want 1", len(list), err)
	}
}

// A filing whose context ends before it is recorded (a manifest posted
// alone, whose kiosk gave up) was answered 500 "internal": it is the
// portal's failure to finish, answered 503 with Retry-After so the kiosk
// sends it again, and nothing is filed.
func TestCancelledFilingWasAnsweredInternalError(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("d"), 3000)
	loc := p.upload("key-cancelled-2", content, len(content))
	m := portalapi.Manifest{IdempotencyKey: "key-cancelled-2", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 3000, SHA256: hexSum(content), UploadURL: loc}}}
	ctx, cancel := context.WithCancel(context.Background())
	p.beforeFile = cancel
	_, status, perr, retry := p.submit(ctx, p.device, &m)
	if status != http.StatusServiceUnavailable || perr == nil || perr.Code != portalapi.CodeUnavailable || retry <= 0 {
		t.Fatalf("cancelled filing: %d %+v retry %v; want 503 unavailable with Retry-After", status, perr, retry)
	}
	if list, err := p.List(context.Background()); err != nil || len(list) != 0 {
		t.Fatalf("filed: %d, %v; want nothing", len(list), err)
	}
	p.beforeFile = nil
	if _, status, perr, _ := p.submit(context.Background(), p.device, &m); status != http.StatusCreated {
		t.Fatalf("the manifest sent again: %d %+v; want 201", status, perr)
	}
}
