package uplink

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// errUploadGone means the portal has no upload at that URL: create it.
var errUploadGone = errors.New("upload not at the portal")

// errUploadExists means the upload was created before, perhaps by a
// request whose answer a cut lost: ask its offset and resume.
var errUploadExists = errors.New("upload exists at the portal")

// sent is what a request that carried upload bytes achieved.
type sent struct {
	offset  int64
	receipt *portalapi.Receipt
	// filings answer an upload of several applications.
	filings []portalapi.Filing
}

// createUpload creates the upload named in meta with the first bytes of
// content in the same request (tus creation-with-upload), so an upload that
// meets no cut costs one round trip.
func (w *Worker) createUpload(ctx context.Context, content []byte, meta map[string]string) (sent, error) {
	return w.transfer(ctx, http.MethodPost, w.endpoint(portalapi.PathUploads), 0, content, meta)
}

// createEmpty creates the upload named in meta, of size bytes, without
// sending any of them (see sendUpload).
func (w *Worker) createEmpty(ctx context.Context, size int64, meta map[string]string) error {
	req, err := w.request(ctx, http.MethodPost, w.endpoint(portalapi.PathUploads), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", encodeMeta(meta))
	resp, err := w.do(req)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		drain(resp)
		return nil
	case http.StatusConflict:
		return w.creationConflict(resp)
	default:
		return w.statusError(resp, "create upload")
	}
}

// creationConflict reads a creation's 409: errUploadExists when the
// upload is there already, the portal's error otherwise.
func (w *Worker) creationConflict(resp *http.Response) error {
	err := w.statusError(resp, "create upload")
	var he *httpError
	if errors.As(err, &he) && he.body.Code == portalapi.CodeUploadExists {
		return errUploadExists
	}
	return err
}

// uploadOffset asks the portal how many bytes of the upload it holds.
func (w *Worker) uploadOffset(ctx context.Context, u string) (int64, error) {
	req, err := w.request(ctx, http.MethodHead, u, nil)
	if err != nil {
		return 0, err
	}
	started := time.Now()
	resp, err := w.do(req)
	w.log.Debug("head", "took", time.Since(started), "err", err)
	if err != nil {
		return 0, err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
	case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
		return 0, errUploadGone
	default:
		return 0, w.statusError(resp, "upload offset")
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("upload offset: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return off, nil
}

// patch sends content[offset:] in one PATCH, so that a cut costs only the
// bytes in flight: the portal keeps what it received, and the next attempt
// resumes from its offset.
func (w *Worker) patch(ctx context.Context, u string, offset int64, content []byte) (sent, error) {
	return w.transfer(ctx, http.MethodPatch, u, offset, content, nil)
}

// transfer sends content[offset:] with a POST that creates the upload (meta
// set) or a PATCH. A transfer that makes no progress for the stall timeout
// is cancelled. The answer to the request that completes the upload
// carries the receipt when the upload holds its manifest.
func (w *Worker) transfer(ctx context.Context, method, u string, offset int64, content []byte, meta map[string]string) (sent, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var r io.Reader = bytes.NewReader(content[offset:])
	if w.gate != nil && int64(len(content)) > offset {
		// The last byte files the applications the upload carries.
		r = &gatedReader{ctx: ctx, g: w.gate, r: bytes.NewReader(content[offset : len(content)-1]), last: content[len(content)-1:]}
	}
	body := &progressReader{r: r, sent: &w.sent, start: time.Now(),
		progress: func(n int64) { w.board.progress(offset + n) }}
	stop := w.watchStall(ctx, cancel, body.start, &body.last)
	defer stop()
	req, err := w.request(ctx, method, u, body)
	if err != nil {
		return sent{}, err
	}
	req.ContentLength = int64(len(content)) - offset
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if meta != nil {
		req.Header.Set("Upload-Length", strconv.Itoa(len(content)))
		req.Header.Set("Upload-Metadata", encodeMeta(meta))
	} else {
		req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	}
	started := time.Now()
	resp, err := w.do(req)
	w.log.Debug("transfer", "method", method, "offset", offset, "bytes", len(content)-int(offset),
		"took", time.Since(started), "err", err)
	if err != nil {
		if gerr := w.gate.failed(); gerr != nil {
			return sent{}, gerr
		}
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			return sent{}, &linkError{cause}
		}
		return sent{}, err
	}
	switch {
	case resp.StatusCode == http.StatusCreated && meta != nil, resp.StatusCode == http.StatusNoContent && meta == nil:
		drain(resp)
	case meta == nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone):
		// The upload expired or was never created: create it. A creation
		// refused with these is an answer about the application instead.
		drain(resp)
		return sent{}, errUploadGone
	case resp.StatusCode == http.StatusConflict && meta != nil:
		return sent{}, w.creationConflict(resp)
	case resp.StatusCode == http.StatusConflict:
		drain(resp)
		return sent{}, errOffsetMismatch
	case resp.StatusCode == http.StatusBadRequest && meta == nil:
		// Nothing in a PATCH the uplink sends is the application's to
		// refuse: tusd answers 400 to a body that was interrupted (by
		// another request for the upload, such as the expiry sweeper's)
		// or ended early. Like a cut, it is resumed from the offset.
		return sent{}, fmt.Errorf("%w: %s", errInterrupted, w.statusError(resp, "patch upload"))
	default:
		return sent{}, w.statusError(resp, strings.ToLower(method)+" upload")
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < offset || off > int64(len(content)) {
		return sent{}, fmt.Errorf("upload: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	out := sent{offset: off}
	if h := resp.Header.Get(portalapi.HeaderReceipt); h != "" {
		rc, err := parseReceipt([]byte(h))
		if err != nil {
			return sent{}, err
		}
		out.receipt = &rc
	}
	if h := resp.Header.Get(portalapi.HeaderReceipts); h != "" {
		fs, err := parseFilings([]byte(h))
		if err != nil {
			return sent{}, err
		}
		out.filings = fs
	}
	return out, nil
}

var (
	// errBadOffset is an offset the portal cannot hold: beyond the
	// upload's length, or beyond the bytes the kiosk sent.
	errBadOffset      = errors.New("impossible upload offset")
	errStalled        = errors.New("transfer stalled")
	errOffsetMismatch = errors.New("upload offset mismatch")
	// errInterrupted is a PATCH the portal answered 400: interrupted, not
	// refused.
	errInterrupted = errors.New("upload request interrupted")
)

// watchStall cancels ctx with errStalled once the transfer has made no
// progress for exactly the stall timeout: *last is when the last progress
// was, in nanoseconds since start (on the monotonic clock, so a change of
// the wall clock neither stalls nor spares a transfer). The returned
// function stops the watch.
func (w *Worker) watchStall(ctx context.Context, cancel context.CancelCauseFunc, start time.Time, last *atomic.Int64) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTimer(w.cfg.StallTimeout)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				idle := time.Since(start) - time.Duration(last.Load())
				if idle >= w.cfg.StallTimeout {
					cancel(errStalled)
					return
				}
				// Progress came since: look again when the timeout is
				// up from it.
				t.Reset(w.cfg.StallTimeout - idle)
			}
		}
	}()
	return func() { close(done) }
}

// progressReader counts the bytes read from it and when.
type progressReader struct {
	r    io.Reader
	sent *atomic.Int64
	// start is when the transfer began; last is when the last byte was
	// read, in nanoseconds since start.
	start time.Time
	last  atomic.Int64
	// progress, if set, is told the bytes read so far after each read.
	progress func(n int64)
	read     int64
}

var _ io.Reader = (*progressReader)(nil)

func (p *progressReader) Read(b []byte) (int, error) {
	// Hand the transport small pieces so progress is seen on a slow link.
	if len(b) > 16<<10 {
		b = b[:16<<10]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.sent.Add(int64(n))
		p.last.Store(int64(time.Since(p.start)))
		p.read += int64(n)
		if p.progress != nil {
			p.progress(p.read)
		}
	}
	return n, err
}

func encodeMeta(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + base64.StdEncoding.EncodeToString([]byte(meta[k]))
	}
	return strings.Join(parts, ",")
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// endpoint resolves a protocol path against the portal's base URL.
func (w *Worker) endpoint(path string) string {
	u := *w.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}
