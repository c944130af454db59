package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/sync/portalapi"
)

type testPortal struct {
	*Server
	url    string
	token  string
	device string
	t      *testing.T
}

// newPortal starts a real portal on 127.0.0.1 with a fixed clock and
// enrolls one device.
func newPortal(t *testing.T) *testPortal {
	t.Helper()
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // Monday 09:00 in Vietnam
	s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	p := &testPortal{Server: s, url: srv.URL, t: t}
	var enrolled portalapi.EnrollResponse
	if code := p.do("POST", portalapi.PathEnroll, nil, `{"device_name":"kiosk-1","site":"UBND xã Yên Thường"}`, &enrolled); code != 201 {
		t.Fatalf("enroll: %d", code)
	}
	if enrolled.AgencyCode != DefaultAgencyCode || enrolled.Token == "" {
		t.Fatalf("enroll: %+v", enrolled)
	}
	p.token, p.device = enrolled.Token, enrolled.DeviceID
	return p
}

// do sends a request and decodes a JSON answer into out, returning the
// status code.
func (p *testPortal) do(method, path string, header http.Header, body string, out any) int {
	p.t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if p.token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func meta(kv ...string) string {
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

func hexSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// upload creates a tus upload for content and sends the first n bytes.
func (p *testPortal) upload(key string, content []byte, n int) string {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(content)))
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, key, portalapi.MetaUploadName, key+"-1"))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		p.t.Fatalf("create upload: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	p.patch(loc, 0, content[:n])
	return loc
}

func (p *testPortal) patch(loc string, offset int, chunk []byte) int {
	p.t.Helper()
	if !strings.HasPrefix(loc, "http") {
		loc = p.url + loc
	}
	req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(chunk))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.Itoa(offset))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (p *testPortal) offset(loc string) int {
	p.t.Helper()
	if !strings.HasPrefix(loc, "http") {
		loc = p.url + loc
	}
	req, _ := http.NewRequest("HEAD", loc, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	n, _ := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	return n
}

// exampleForm is a valid form of birth-registration (1.001193), the
// catalog's example: its child is Nguyễn Minh Khang, and it gives the
// birth certificate's number, so no attachment is required.
func exampleForm() json.RawMessage {
	cat, err := procedure.Embedded()
	if err != nil {
		panic(err)
	}
	p, err := cat.Lookup("birth-registration")
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	json.Compact(&b, p.Example())
	return b.Bytes()
}

func manifest(key string, atts ...portalapi.AttachmentRef) string {
	if atts == nil {
		atts = []portalapi.AttachmentRef{}
	}
	m := portalapi.Manifest{IdempotencyKey: key, ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Form: exampleForm(), Attachments: atts}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestSubmitIssuesFileCodeOnceForAKey(t *testing.T) {
	p := newPortal(t)
	var first, again portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000001"), &first); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	if first.FileCode != "000.00.01.H29-261123-0001" || first.State != portalapi.Received {
		t.Fatalf("receipt %+v", first)
	}
	// Due in 3 working days: Monday 23 -> Thursday 26 November.
	if d := first.DueAt.In(vietnam).Format("2006-01-02"); d != "2026-11-26" {
		t.Errorf("due %s", d)
	}
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000001"), &again); code != 200 {
		t.Fatalf("repeat: %d", code)
	}
	if again.FileCode != first.FileCode || !again.Duplicate {
		t.Fatalf("repeat got %+v, want the same code", again)
	}
	var second portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000002"), &second)
	if second.FileCode != "000.00.01.H29-261123-0002" {
		t.Errorf("second code %s", second.FileCode)
	}
	list, err := p.List(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d, %v", len(list), err)
	}
}

func TestResumedUploadIsCheckedByHash(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("trang scan "), 30000)
	loc := p.upload("key-00000003", content, 100000)
	if got := p.offset(loc); got != 100000 {
		t.Fatalf("offset after partial upload: %d", got)
	}
	ref := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "gcs.pdf", MediaType: "application/pdf",
		Size: int64(len(content)), SHA256: hexSum(content), UploadURL: loc}
	var perr portalapi.Error
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000003", ref), &perr); code != 409 || perr.Code != portalapi.CodeUploadIncomplete {
		t.Fatalf("manifest before the upload finished: %d %+v", code, perr)
	}
	if code := p.patch(loc, 100000, content[100000:]); code != 204 {
		t.Fatalf("resume: %d", code)
	}
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000003", ref), &rc); code != 201 {
		t.Fatalf("manifest: %d", code)
	}
	list, _ := p.List(context.Background())
	if len(list) != 1 || len(list[0].Attachments) != 1 || list[0].Attachments[0].SHA256Received != hexSum(content) {
		t.Fatalf("list: %+v", list)
	}
}

func TestCorruptUploadIsRefused(t *testing.T) {
	p := newPortal(t)
	content := []byte(strings.Repeat("x", 5000))
	loc := p.upload("key-00000004", content, len(content))
	other := []byte(strings.Repeat("y", 5000))
	ref := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 5000, SHA256: hexSum(other), UploadURL: loc}
	var perr portalapi.Error
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000004", ref), &perr); code != 422 || perr.Code != portalapi.CodeChecksumMismatch {
		t.Fatalf("corrupt attachment: %d %+v", code, perr)
	}
	if list, _ := p.List(context.Background()); len(list) != 0 {
		t.Fatalf("a corrupt submission was filed: %+v", list)
	}
}

func TestMalformedAndUnauthorized(t *testing.T) {
	p := newPortal(t)
	var perr portalapi.Error
	tests := []struct {
		body  string
		field string
	}{
		{`{"idempotency_key":"x"}`, "idempotency_key"},
		{strings.Replace(manifest("key-00000005"), `"form":{`, `"form":[{`, 1) + "", ""},
		{`not json`, ""},
		{strings.Replace(manifest("key-00000005"), `"procedure_id":"birth-registration"`, `"procedure_id":""`, 1), "procedure_id"},
	}
	for _, tt := range tests {
		code := p.do("POST", portalapi.PathSubmissions, nil, tt.body, &perr)
		if code != 422 || perr.Code != portalapi.CodeMalformed {
			t.Errorf("body %.40q: %d %+v", tt.body, code, perr)
		}
		if tt.field != "" && (len(perr.Fields) == 0 || perr.Fields[0].Field != tt.field) {
			t.Errorf("body %.40q: fields %+v, want %s", tt.body, perr.Fields, tt.field)
		}
	}
	p.token = "wrong"
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000006"), &perr); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
}

func TestStatusPullByCursorAndAdvance(t *testing.T) {
	p := newPortal(t)
	var rc portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000007"), &rc)
	ctx := context.Background()
	if err := p.Advance(ctx, rc.FileCode, portalapi.InReview, ""); err != nil {
		t.Fatal(err)
	}
	if err := p.Advance(ctx, rc.FileCode, portalapi.NeedsMore, "Bổ sung giấy chứng sinh"); err != nil {
		t.Fatal(err)
	}
	if err := p.Advance(ctx, rc.FileCode, portalapi.Received, ""); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("back to received: %v", err)
	}
	if err := p.Advance(ctx, "000.00.01.H29-261123-9999", portalapi.Done, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown file: %v", err)
	}
	var page portalapi.StatusPage
	p.do("GET", portalapi.PathStatus+"?cursor=0&limit=2", nil, "", &page)
	if len(page.Events) != 2 || !page.More || page.Events[0].State != portalapi.Received || page.Events[1].State != portalapi.InReview {
		t.Fatalf("first page %+v", page)
	}
	p.do("GET", fmt.Sprintf("%s?cursor=%d", portalapi.PathStatus, page.Cursor), nil, "", &page)
	if len(page.Events) != 1 || page.More || page.Events[0].State != portalapi.NeedsMore || page.Events[0].Note != "Bổ sung giấy chứng sinh" {
		t.Fatalf("second page %+v", page)
	}
	p.do("GET", fmt.Sprintf("%s?cursor=%d", portalapi.PathStatus, page.Cursor), nil, "", &page)
	if len(page.Events) != 0 || page.More {
		t.Fatalf("after the last event %+v", page)
	}
}

// A receipt names the status event its filing made, a repeat's the same
// one however far the file has moved since: the kiosk knows the portal
// holds that event before its status pull reaches it.
func TestReceiptNamesTheStatusEventOfItsFiling(t *testing.T) {
	p := newPortal(t)
	var other, rc, again portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000021"), &other)
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000022"), &rc)
	if err := p.Advance(context.Background(), rc.FileCode, portalapi.InReview, ""); err != nil {
		t.Fatal(err)
	}
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000022"), &again); code != 200 || !again.Duplicate {
		t.Fatalf("repeat: %d %+v", code, again)
	}
	var page portalapi.StatusPage
	p.do("GET", portalapi.PathStatus+"?cursor=0", nil, "", &page)
	seqs := map[string]int64{}
	for _, e := range page.Events {
		if e.State == portalapi.Received {
			seqs[e.FileCode] = e.Seq
		}
	}
	if other.Seq == 0 || other.Seq != seqs[other.FileCode] || rc.Seq != seqs[rc.FileCode] || again.Seq != rc.Seq {
		t.Fatalf("receipts name events %d, %d, repeat %d; the status pull has %v", other.Seq, rc.Seq, again.Seq, page.Events)
	}
}

func TestTrackPage(t *testing.T) {
	p := newPortal(t)
	var rc portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000008"), &rc)
	p.Advance(context.Background(), rc.FileCode, portalapi.Done, "Mời nhận kết quả tại UBND xã")
	// The receipt's QR code carries the device and the idempotency key.
	resp, err := http.Get(p.url + portalapi.TrackPath(p.device, "key-00000008"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != 200 {
		t.Errorf("track by device and idempotency key: %d", resp.StatusCode)
	}
	for _, want := range []string{rc.FileCode, "Đã có kết quả", "Mời nhận kết quả tại UBND xã", "viewport", "1.001193"} {
		if !strings.Contains(page, want) {
			t.Errorf("track page lacks %q", want)
		}
	}
	if strings.Contains(page, "Nguyễn Minh Khang") {
		t.Error("track page shows personal data")
	}
	resp, _ = http.Get(p.url + portalapi.TrackPath(p.device, "key-00000009"))
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown file: %d", resp.StatusCode)
	}
}

// File codes are sequential per agency and day: a page by file code alone
// let anyone read every file's state (and the officer's notes to the
// citizen) by counting -0001, -0002, ... It now shows nothing but where to
// look, and names no file.
func TestTrackPageIsNotEnumerableByFileCode(t *testing.T) {
	p := newPortal(t)
	var rc portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000008"), &rc)
	p.Advance(context.Background(), rc.FileCode, portalapi.NeedsMore, "Bổ sung giấy chứng sinh")
	resp, err := http.Get(p.url + portalapi.PathTrack + rc.FileCode)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, leak := range []string{"Bổ sung giấy chứng sinh", "Cần bổ sung", "1.001193", "birth-registration"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the page by file code alone shows %q", leak)
		}
	}
	if resp.StatusCode != 404 || !strings.Contains(string(b), "QR") {
		t.Errorf("track by file code alone: %d %s, want 404 pointing at the receipt's QR code", resp.StatusCode, b)
	}
}

// An upload that carries its manifest is filed when its last byte arrives,
// and the answer to that request carries the receipt.
func TestUploadWithManifestIsFiledOnCompletion(t *testing.T) {
	p := newPortal(t)
	a, b := bytes.Repeat([]byte("a"), 7000), bytes.Repeat([]byte("b"), 5000)
	m := portalapi.Manifest{IdempotencyKey: "key-00000009", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 7000, SHA256: hexSum(a), Offset: 0},
			{EvidenceKey: "marriage_certificate", Name: "b", MediaType: "image/jpeg", Size: 5000, SHA256: hexSum(b), Offset: 7000},
		}}
	mj, _ := json.Marshal(m)
	content := append(append([]byte{}, a...), b...)
	req, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, bytes.NewReader(content[:9000]))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "12000")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, "key-00000009-1",
		portalapi.MetaManifest, string(mj)))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 201 || !strings.HasSuffix(loc, "-key-00000009-1") || resp.Header.Get(portalapi.HeaderReceipt) != "" {
		t.Fatalf("creation with 9000 of 12000 bytes: %d %q receipt %q", resp.StatusCode, loc, resp.Header.Get(portalapi.HeaderReceipt))
	}
	// Creating the same name again is refused: the kiosk resumes instead.
	var perr portalapi.Error
	req2, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, nil)
	req2.Header = req.Header.Clone()
	req2.Header.Del("Content-Type")
	resp2, _ := http.DefaultClient.Do(req2)
	json.NewDecoder(resp2.Body).Decode(&perr)
	resp2.Body.Close()
	if resp2.StatusCode != 409 || perr.Code != portalapi.CodeUploadExists {
		t.Fatalf("second creation: %d %+v", resp2.StatusCode, perr)
	}
	req3, _ := http.NewRequest("PATCH", loc, bytes.NewReader(content[9000:]))
	req3.Header.Set("Tus-Resumable", "1.0.0")
	req3.Header.Set("Upload-Offset", "9000")
	req3.Header.Set("Content-Type", "application/offset+octet-stream")
	req3.Header.Set("Authorization", "Bearer "+p.token)
	resp3, err := http.DefaultClient.Do(req3)
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	var rc portalapi.Receipt
	if err := json.Unmarshal([]byte(resp3.Header.Get(portalapi.HeaderReceipt)), &rc); err != nil || rc.FileCode == "" {
		t.Fatalf("completing PATCH: %d receipt %q", resp3.StatusCode, resp3.Header.Get(portalapi.HeaderReceipt))
	}
	list, _ := p.List(context.Background())
	if len(list) != 1 || len(list[0].Attachments) != 2 || list[0].Attachments[1].SHA256Received != hexSum(b) {
		t.Fatalf("list: %+v", list)
	}
	// The manifest sent again by itself gets the same code.
	m.Attachments[0].UploadURL, m.Attachments[1].UploadURL = loc, loc
	mj, _ = json.Marshal(m)
	var again portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, string(mj), &again); code != 200 || again.FileCode != rc.FileCode {
		t.Fatalf("manifest again: %d %+v", code, again)
	}
}

// The tus checksum extension: a chunk with a good checksum is kept, one with
// a bad checksum is discarded with 460, and OPTIONS advertises it.
func TestChecksumExtension(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("0123456789"), 2000)
	loc := p.upload("key-0000000c", content, 0)
	patch := func(offset int, chunk []byte, checksum string) int {
		req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(chunk))
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", strconv.Itoa(offset))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Checksum", checksum)
		req.Header.Set("Authorization", "Bearer "+p.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sum := func(b []byte) string {
		h := sha256.Sum256(b)
		return "sha256 " + base64.StdEncoding.EncodeToString(h[:])
	}
	if code := patch(0, content[:5000], sum(content[:4999])); code != 460 {
		t.Fatalf("bad checksum: %d, want 460", code)
	}
	if off := p.offset(loc); off != 0 {
		t.Fatalf("a chunk with a bad checksum left offset %d", off)
	}
	if code := patch(0, content[:5000], "crc99 AAAA"); code != 400 {
		t.Fatalf("unknown algorithm: %d, want 400", code)
	}
	if code := patch(0, content[:5000], sum(content[:5000])); code != 204 {
		t.Fatalf("good checksum: %d, want 204", code)
	}
	if off := p.offset(loc); off != 5000 {
		t.Fatalf("offset %d after a good chunk", off)
	}
	req, _ := http.NewRequest("OPTIONS", p.url+portalapi.PathUploads, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Tus-Extension"), "checksum") || !strings.Contains(resp.Header.Get("Tus-Checksum-Algorithm"), "sha256") {
		t.Fatalf("OPTIONS: Tus-Extension %q, Tus-Checksum-Algorithm %q", resp.Header.Get("Tus-Extension"), resp.Header.Get("Tus-Checksum-Algorithm"))
	}
}

// The tracking page says who handled the file and when: each change with
// its officer and agency, the filing by the system.
func TestTrackPageShowsWhoHandledTheFileAndWhen(t *testing.T) {
	p := newPortal(t)
	var rc portalapi.Receipt
	p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000009"), &rc)
	ctx := context.Background()
	if err := p.AdvanceBy(ctx, rc.FileCode, portalapi.InReview, "", Handler{Officer: "Trần Văn Bình", Agency: "UBND xã Yên Thường"}); err != nil {
		t.Fatal(err)
	}
	if err := p.AdvanceBy(ctx, rc.FileCode, portalapi.Done, "", Handler{Officer: "<b>Lê Thị Cúc</b>", Agency: "Phòng Tư pháp"}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(p.url + portalapi.TrackPath(p.device, "key-00000009"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	items := regexp.MustCompile(`(?s)<li>(.*?)</li>`).FindAllStringSubmatch(string(b), -1)
	if len(items) != 3 {
		t.Fatalf("history has %d entries, want 3:\n%s", len(items), b)
	}
	for i, want := range []string{"hệ thống", "Trần Văn Bình, UBND xã Yên Thường", "&lt;b&gt;Lê Thị Cúc&lt;/b&gt;, Phòng Tư pháp"} {
		item := items[i][1]
		if !strings.Contains(item, "Handled by</span>: "+want) || !regexp.MustCompile(`^09:00 23/11/2026: `).MatchString(item) {
			t.Errorf("history entry %d = %q; want 09:00 23/11/2026 and handled by %q", i, item, want)
		}
	}
}
