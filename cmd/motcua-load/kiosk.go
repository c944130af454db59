//go:build load

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/internal/loadtest"
	"github.com/motcua/motcua/sync/portalapi"
)

// traceRequests logs every request and its answer (MOTCUA_LOAD_TRACE=1).
var traceRequests = os.Getenv("MOTCUA_LOAD_TRACE") == "1"

// receiptsSoFar counts receipts across kiosks, for the progress log.
var receiptsSoFar atomic.Int64

// maxRequests bounds the requests one application may take before the
// kiosk gives up on it (and the test reports it as without a receipt).
const maxRequests = 64

// pages is a pool of scanned pages: random bytes (like JPEG, which does
// not compress) with their SHA-256, as computed at capture.
type pages struct {
	data [][]byte
	sum  []string
}

func newPages(seed uint64, n, size int) *pages {
	rng := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	p := &pages{}
	for range n {
		b := make([]byte, size)
		rng.Read(b)
		h := sha256.Sum256(b)
		p.data = append(p.data, b)
		p.sum = append(p.sum, hex.EncodeToString(h[:]))
	}
	return p
}

// The application every kiosk captures: the catalog's example of birth
// registration, whose scanned pages are its first evidence.
var (
	catalogVersion string
	birth          *procedure.Procedure
	form           json.RawMessage
)

func init() {
	cat, err := procedure.Embedded()
	if err != nil {
		panic(err)
	}
	if birth, err = cat.Lookup("birth-registration"); err != nil {
		panic(err)
	}
	catalogVersion = cat.Version
	var b bytes.Buffer
	if err := json.Compact(&b, birth.Example()); err != nil {
		panic(err)
	}
	form = b.Bytes()
}

// kiosk is one simulated kiosk: its own device key, token, connection
// pool and loopback address.
type kiosk struct {
	n        int
	base     string
	client   *http.Client
	key      ed25519.PrivateKey
	deviceID string
	token    string
	rng      *mrand.Rand
	pages    *pages
}

// kioskAddr is kiosk n's own loopback address: 127.1.0.1 for the first.
func kioskAddr(n int) netip.Addr {
	a := n + 1
	return netip.AddrFrom4([4]byte{127, byte(1 + a>>16), byte(a >> 8), byte(a)})
}

func newKiosk(n int, base string, seed uint64, p *pages) (*kiosk, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		LocalAddr: &net.TCPAddr{IP: kioskAddr(n).AsSlice()}}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute}
	return &kiosk{n: n, base: strings.TrimSuffix(base, "/"), key: key, pages: p,
		rng:    mrand.New(mrand.NewPCG(seed, uint64(n))),
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

// answer is one HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// perr is the protocol error an answer carries, or nil.
func (a answer) perr() *portalapi.Error {
	var e portalapi.Error
	if json.Unmarshal(a.body, &e) != nil || e.Code == "" {
		return nil
	}
	return &e
}

func (a answer) String() string {
	if e := a.perr(); e != nil {
		return fmt.Sprintf("%d %s: %s", a.status, e.Code, e.Message)
	}
	return fmt.Sprintf("%d %.200s", a.status, a.body)
}

// retryAfter is the answer's Retry-After in seconds, at least 1 s.
func (a answer) retryAfter() time.Duration {
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || n < 1 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

func (k *kiosk) do(ctx context.Context, method, path string, body []byte, h map[string]string) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	for name, v := range h {
		req.Header.Set(name, v)
	}
	t0 := time.Now()
	resp, err := k.client.Do(req)
	if traceRequests {
		status := "error"
		if err == nil {
			status = resp.Status
		}
		var body []byte
		if err == nil && resp.StatusCode >= 300 {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), resp.Body))
		}
		ra := ""
		if err == nil {
			ra = resp.Header.Get("Retry-After")
		}
		fmt.Fprintf(os.Stderr, "trace kiosk=%d %s %s -> %s in %s (err %v) retry-after=%q %s\n", k.n, method, path, status, time.Since(t0), err, ra, body)
	}
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enroll enrolls the kiosk as a new device, with code if given (else
// through open enrollment), signing the request with its key.
func (k *kiosk) enroll(ctx context.Context, code string) error {
	for attempt := 0; ; attempt++ {
		a, err := k.do(ctx, http.MethodGet, portalapi.PathHealth, nil, nil)
		if err != nil {
			return err
		}
		var h portalapi.Health
		if a.status != http.StatusOK || json.Unmarshal(a.body, &h) != nil {
			return fmt.Errorf("health: %s", a)
		}
		req := portalapi.EnrollRequest{DeviceName: fmt.Sprintf("load-kiosk-%04d", k.n), Site: "load test", Code: code,
			PublicKey: portalapi.EncodePublicKey(k.key.Public().(ed25519.PublicKey)), SignedAt: time.Now().UTC()}
		req.Signature = portalapi.Sign(k.key, portalapi.EnrollMessage(h.Instance, req))
		body, err := json.Marshal(req)
		if err != nil {
			return err
		}
		a, err = k.do(ctx, http.MethodPost, portalapi.PathEnroll, body, map[string]string{"Content-Type": "application/json"})
		if err != nil {
			return err
		}
		switch {
		case a.status == http.StatusCreated || a.status == http.StatusOK:
			var er portalapi.EnrollResponse
			if err := json.Unmarshal(a.body, &er); err != nil || er.Token == "" || er.DeviceID == "" {
				return fmt.Errorf("enroll: unreadable answer %s", a)
			}
			k.deviceID, k.token = er.DeviceID, er.Token
			return nil
		case (a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable) && attempt < 20:
			if err := sleep(ctx, a.retryAfter()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("enroll: %s", a)
		}
	}
}

// result is one application's delivery.
type result struct {
	key      string
	fileCode string
	bytes    int64
	// took is from the application's first request to its receipt.
	took    time.Duration
	answers map[string]int
	err     error
}

// app is one captured application: its manifest (attachments at offsets
// from 0) and its pages back to back.
type app struct {
	m       portalapi.Manifest
	content []byte
}

// capture makes an application of npages pages, each drawn from the pool,
// with a new idempotency key.
func (k *kiosk) capture(npages int) app {
	var kb [16]byte
	rand.Read(kb[:])
	a := app{m: portalapi.Manifest{IdempotencyKey: hex.EncodeToString(kb[:]), ProcedureCode: birth.Code, ProcedureID: birth.ID,
		CatalogVersion: catalogVersion, CapturedAt: time.Now().UTC().Truncate(time.Second), Form: form}}
	for i := range npages {
		p := k.rng.IntN(len(k.pages.data))
		a.m.Attachments = append(a.m.Attachments, portalapi.AttachmentRef{EvidenceKey: birth.Evidence[0].Key,
			Name: fmt.Sprintf("page-%d.jpg", i+1), MediaType: "image/jpeg", Size: int64(len(k.pages.data[p])),
			SHA256: k.pages.sum[p], Offset: int64(len(a.content))})
		a.content = append(a.content, k.pages.data[p]...)
	}
	return a
}

// deliverAll delivers n applications, as a kiosk's outbox worker delivers
// its queue, until each has its receipt or failed for good: one after the
// other in an upload each (batch <= 1), or captured first and sent in
// uploads of up to batch applications and 2 MB, as the uplink sends a
// backlog of small applications.
func (k *kiosk) deliverAll(ctx context.Context, n, minPages, maxPages, batch int) []result {
	out := make([]result, 0, n)
	if batch <= 1 {
		for range n {
			if ctx.Err() != nil {
				break
			}
			out = append(out, k.deliver(ctx, k.capture(minPages+k.rng.IntN(maxPages-minPages+1))))
		}
		return out
	}
	queue := make([]app, n)
	for i := range queue {
		queue[i] = k.capture(minPages + k.rng.IntN(maxPages-minPages+1))
	}
	for len(queue) > 0 && ctx.Err() == nil {
		size, i := 0, 0
		for i < len(queue) && i < batch && (i == 0 || size+len(queue[i].content) <= maxBatchBytes) {
			size += len(queue[i].content)
			i++
		}
		out = append(out, k.deliverBatch(ctx, queue[:i])...)
		// Delivered: a thousand kiosks' backlogs need not stay in memory.
		clear(queue[:i])
		queue = queue[i:]
	}
	return out
}

// maxBatchBytes bounds the attachments of one upload of several
// applications, as the uplink does.
const maxBatchBytes = 2 << 20

// deliver delivers one application in an upload that carries its signed
// manifest.
func (k *kiosk) deliver(ctx context.Context, a app) result {
	res := result{key: a.m.IdempotencyKey, answers: map[string]int{}, bytes: int64(len(a.content))}
	manifest, err := json.Marshal(a.m)
	if err != nil {
		res.err = err
		return res
	}
	name := res.key + "-1"
	path := portalapi.PathUploads + k.deviceID + "-" + name
	meta := encodeMeta(map[string]string{
		portalapi.MetaIdempotencyKey: res.key,
		portalapi.MetaUploadName:     name,
		portalapi.MetaManifest:       string(manifest),
		portalapi.MetaSignature:      portalapi.Sign(k.key, portalapi.ManifestMessage(k.deviceID, res.key, manifest)),
	})
	start := time.Now()
	h, err := k.upload(ctx, path, a.content, meta, res.answers)
	if err != nil {
		res.err = err
		return res
	}
	if r := h.Get(portalapi.HeaderReceipt); r != "" {
		var rc portalapi.Receipt
		if err := json.Unmarshal([]byte(r), &rc); err == nil {
			return k.received(res, rc, start)
		}
	}
	// Complete, but the answer with the receipt was lost: the manifest
	// alone gets it.
	res.answers["manifest_after_lost_receipt"]++
	rc, err := k.fileManifest(ctx, a.m, path, 0, res.answers)
	if err != nil {
		res.err = err
		return res
	}
	return k.received(res, rc, start)
}

// deliverBatch delivers apps in one upload that starts with their
// manifests, compressed together, and files alone each application the
// portal did not file with the others.
func (k *kiosk) deliverBatch(ctx context.Context, apps []app) []result {
	out := make([]result, len(apps))
	ms := make([]portalapi.Manifest, len(apps))
	var attached int64
	naming := sha256.New()
	for i, a := range apps {
		out[i] = result{key: a.m.IdempotencyKey, answers: map[string]int{}, bytes: int64(len(a.content))}
		ms[i] = a.m
		ms[i].Attachments = append([]portalapi.AttachmentRef(nil), a.m.Attachments...)
		for j := range ms[i].Attachments {
			ms[i].Attachments[j].Offset += attached
			naming.Write([]byte(ms[i].Attachments[j].SHA256))
		}
		naming.Write([]byte(a.m.IdempotencyKey))
		attached += int64(len(a.content))
	}
	fail := func(err error) []result {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	block, err := portalapi.ManifestBlock(ms)
	if err != nil {
		return fail(err)
	}
	first := ms[0].IdempotencyKey
	name := "batch-" + hex.EncodeToString(naming.Sum(nil))[:40]
	path := portalapi.PathUploads + k.deviceID + "-" + name
	meta := encodeMeta(map[string]string{
		portalapi.MetaIdempotencyKey: first,
		portalapi.MetaUploadName:     name,
		portalapi.MetaManifests:      strconv.Itoa(len(block)),
		portalapi.MetaSignature:      portalapi.Sign(k.key, portalapi.ManifestMessage(k.deviceID, first, block)),
	})
	start := time.Now()
	content := make([]byte, 0, int64(len(block))+attached)
	content = append(content, block...)
	for _, a := range apps {
		content = append(content, a.content...)
	}
	h, err := k.upload(ctx, path, content, meta, out[0].answers)
	if err != nil {
		return fail(err)
	}
	var filings []portalapi.Filing
	if r := h.Get(portalapi.HeaderReceipts); r != "" {
		if json.Unmarshal([]byte(r), &filings) != nil || len(filings) != len(apps) {
			filings = nil
		}
	}
	if filings == nil {
		out[0].answers["manifests_after_lost_receipts"]++
	}
	for i := range out {
		if filings != nil && filings[i].Receipt != nil {
			out[i] = k.received(out[i], *filings[i].Receipt, start)
			continue
		}
		if filings != nil {
			// Filed alone: its bytes are at the portal, after the block.
			out[i].answers[fmt.Sprintf("filed_alone_after_%d", filings[i].Status)]++
			if filings[i].RetryAfter > 0 && sleep(ctx, time.Duration(filings[i].RetryAfter)*time.Second) != nil {
				out[i].err = ctx.Err()
				continue
			}
		}
		rc, err := k.fileManifest(ctx, ms[i], path, int64(len(block)), out[i].answers)
		if err != nil {
			out[i].err = err
			continue
		}
		out[i] = k.received(out[i], rc, start)
	}
	return out
}

// upload sends content as the tus upload at path, created with meta and
// all its bytes, resumed from the portal's offset (HEAD, then PATCH) after
// a failure, waiting as 429 and 503 ask. It returns the headers of the
// answer that completed it, or none when it found the upload complete
// without that answer (lost, or refused with 429 or 503 after the portal
// kept the bytes): the manifests must then be posted alone.
func (k *kiosk) upload(ctx context.Context, path string, content []byte, meta string, answers map[string]int) (http.Header, error) {
	size := int64(len(content))
	tus := map[string]string{"Tus-Resumable": "1.0.0"}
	// created is false until the portal is known to have the upload.
	created := false
	var last error
	for range maxRequests {
		var a answer
		var err error
		if !created {
			a, err = k.do(ctx, http.MethodPost, portalapi.PathUploads, content, map[string]string{"Tus-Resumable": "1.0.0",
				"Upload-Length": strconv.FormatInt(size, 10), "Upload-Metadata": meta,
				"Content-Type": "application/offset+octet-stream"})
		} else {
			var off int64
			var wait time.Duration
			off, wait, err = k.offset(ctx, path, tus)
			switch {
			case wait > 0:
				// The portal asks to wait (429, 503, 423): as the uplink,
				// the kiosk waits that long.
				answers["head_wait"]++
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
				continue
			case errors.Is(err, errNoUpload):
				answers["head_404"]++
				created = false
				continue
			case err != nil:
			case off == size:
				return http.Header{}, nil
			default:
				answers["resumed"]++
				a, err = k.do(ctx, http.MethodPatch, path, content[off:], map[string]string{"Tus-Resumable": "1.0.0",
					"Upload-Offset": strconv.FormatInt(off, 10), "Content-Type": "application/offset+octet-stream"})
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			answers["link_error"]++
			last, created = err, true
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		created = true
		if a.status == http.StatusCreated || a.status == http.StatusNoContent {
			if off, err := strconv.ParseInt(a.header.Get("Upload-Offset"), 10, 64); err == nil && off == size {
				return a.header, nil
			}
			// Bytes kept, not all: the HEAD says how far.
			answers[fmt.Sprintf("%d_short", a.status)]++
			continue
		}
		last = fmt.Errorf("upload: %s", a)
		switch {
		case a.status == http.StatusConflict && a.perr() != nil && a.perr().Code == portalapi.CodeUploadExists:
			answers["upload_exists"]++
		case a.status == http.StatusTooManyRequests, a.status == http.StatusServiceUnavailable, a.status == http.StatusLocked:
			answers[strconv.Itoa(a.status)]++
			if err := sleep(ctx, a.retryAfter()); err != nil {
				return nil, err
			}
		case a.status == http.StatusBadRequest, a.status == http.StatusRequestTimeout, a.status >= 500:
			answers[strconv.Itoa(a.status)]++
			sleep(ctx, 200*time.Millisecond)
		default:
			answers[strconv.Itoa(a.status)]++
			return nil, last
		}
	}
	return nil, fmt.Errorf("no receipt after %d requests: %w", maxRequests, last)
}

func (k *kiosk) received(res result, rc portalapi.Receipt, start time.Time) result {
	res.took = time.Since(start)
	if _, _, _, err := portalapi.ParseFileCode(rc.FileCode); err != nil {
		res.err = fmt.Errorf("receipt: %w", err)
		return res
	}
	res.fileCode, res.err = rc.FileCode, nil
	if rc.Duplicate {
		res.answers["duplicate_receipt"]++
	}
	receiptsSoFar.Add(1)
	return res
}

var errNoUpload = errors.New("no such upload")

// offset asks the portal how many bytes of the upload it holds, or how
// long it asks the kiosk to wait (a 429, 503 or 423 to the HEAD).
func (k *kiosk) offset(ctx context.Context, path string, h map[string]string) (int64, time.Duration, error) {
	a, err := k.do(ctx, http.MethodHead, path, nil, h)
	if err != nil {
		return 0, 0, err
	}
	switch a.status {
	case http.StatusOK, http.StatusNoContent:
		off, err := strconv.ParseInt(a.header.Get("Upload-Offset"), 10, 64)
		return off, 0, err
	case http.StatusNotFound, http.StatusGone:
		return 0, 0, errNoUpload
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusLocked:
		return 0, a.retryAfter(), fmt.Errorf("head: %s", a)
	}
	return 0, 0, fmt.Errorf("head: %s", a)
}

// fileManifest posts the manifest of an application whose bytes are all
// in the upload at path, from base on, to get its receipt.
func (k *kiosk) fileManifest(ctx context.Context, m portalapi.Manifest, path string, base int64, answers map[string]int) (portalapi.Receipt, error) {
	m.Attachments = append([]portalapi.AttachmentRef(nil), m.Attachments...)
	for i := range m.Attachments {
		m.Attachments[i].UploadURL = k.base + path
		m.Attachments[i].Offset += base
	}
	body, err := json.Marshal(m)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	h := map[string]string{"Content-Type": "application/json",
		portalapi.HeaderSignature: portalapi.Sign(k.key, portalapi.ManifestMessage(k.deviceID, m.IdempotencyKey, body))}
	for range maxRequests {
		a, err := k.do(ctx, http.MethodPost, portalapi.PathSubmissions, body, h)
		if err != nil {
			if ctx.Err() != nil {
				return portalapi.Receipt{}, ctx.Err()
			}
			answers["link_error"]++
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		switch {
		case a.status == http.StatusOK || a.status == http.StatusCreated:
			var rc portalapi.Receipt
			if err := json.Unmarshal(a.body, &rc); err != nil {
				return portalapi.Receipt{}, fmt.Errorf("unreadable receipt: %w", err)
			}
			return rc, nil
		case a.status == http.StatusTooManyRequests, a.status == http.StatusServiceUnavailable, a.status == http.StatusLocked:
			answers[strconv.Itoa(a.status)]++
			if err := sleep(ctx, a.retryAfter()); err != nil {
				return portalapi.Receipt{}, err
			}
		case a.status >= 500 || a.status == http.StatusRequestTimeout:
			answers[strconv.Itoa(a.status)]++
			sleep(ctx, 200*time.Millisecond)
		default:
			return portalapi.Receipt{}, fmt.Errorf("manifest: %s", a)
		}
	}
	return portalapi.Receipt{}, fmt.Errorf("manifest: no receipt after %d requests", maxRequests)
}

// received pulls the kiosk's whole status from cursor 0 and returns its
// "received" events: one per filing.
func (k *kiosk) receivedEvents(ctx context.Context) ([]loadtest.Filed, error) {
	var out []loadtest.Filed
	cursor := int64(0)
	for {
		a, err := k.do(ctx, http.MethodGet, fmt.Sprintf("%s?cursor=%d&limit=500", portalapi.PathStatus, cursor), nil, nil)
		if err != nil {
			return nil, err
		}
		var page portalapi.StatusPage
		if a.status != http.StatusOK || json.Unmarshal(a.body, &page) != nil {
			return nil, fmt.Errorf("status: %s", a)
		}
		for _, e := range page.Events {
			if e.State == portalapi.Received {
				out = append(out, loadtest.Filed{Device: k.deviceID, Key: e.IdempotencyKey, FileCode: e.FileCode})
			}
		}
		if !page.More || page.Cursor <= cursor {
			return out, nil
		}
		cursor = page.Cursor
	}
}

// encodeMeta encodes tus Upload-Metadata: key and base64 value pairs.
func encodeMeta(meta map[string]string) string {
	parts := make([]string, 0, len(meta))
	for k, v := range meta {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return strings.Join(parts, ",")
}
