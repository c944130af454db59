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
)

// errUploadGone means the portal no longer has an upload: start a new one.
var errUploadGone = errors.New("upload no longer exists at the portal")

// createUpload starts a tus upload of size bytes with the given metadata and
// returns its absolute URL.
func (w *Worker) createUpload(ctx context.Context, size int64, meta map[string]string) (string, error) {
	req, err := w.request(ctx, http.MethodPost, w.endpoint("/v1/uploads/"), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", encodeMeta(meta))
	resp, err := w.do(req)
	if err != nil {
		return "", err
	}
	drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return "", statusError(resp, "create upload")
	}
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("create upload: bad Location %q", resp.Header.Get("Location"))
	}
	return loc.String(), nil
}

// uploadOffset asks the portal how many bytes of the upload it holds.
func (w *Worker) uploadOffset(ctx context.Context, u string) (int64, error) {
	req, err := w.request(ctx, http.MethodHead, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := w.do(req)
	if err != nil {
		return 0, err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
	case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
		return 0, errUploadGone
	default:
		return 0, statusError(resp, "upload offset")
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("upload offset: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return off, nil
}

// patch sends content[offset:] in one PATCH, so that a cut costs only the
// bytes in flight: the portal keeps what it received, and the next attempt
// resumes from its offset. sent is increased as bytes leave. A transfer that
// makes no progress for stall is cancelled.
func (w *Worker) patch(ctx context.Context, u string, offset int64, content []byte, sent *atomic.Int64) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := &progressReader{r: bytes.NewReader(content[offset:]), sent: sent, last: atomic.Int64{}}
	body.last.Store(time.Now().UnixNano())
	stop := w.watchStall(ctx, cancel, &body.last)
	defer stop()
	req, err := w.request(ctx, http.MethodPatch, u, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(len(content)) - offset
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	resp, err := w.do(req)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			return 0, cause
		}
		return 0, err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
	case http.StatusNotFound, http.StatusGone:
		return 0, errUploadGone
	case http.StatusConflict:
		return 0, errOffsetMismatch
	default:
		return 0, statusError(resp, "upload")
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < offset || off > int64(len(content)) {
		return 0, fmt.Errorf("upload: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return off, nil
}

var (
	errStalled        = errors.New("transfer stalled")
	errOffsetMismatch = errors.New("upload offset mismatch")
)

// watchStall cancels ctx with errStalled when *last (unix nanoseconds of the
// last progress) is older than the stall timeout.
func (w *Worker) watchStall(ctx context.Context, cancel context.CancelCauseFunc, last *atomic.Int64) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(w.cfg.StallTimeout / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if time.Since(time.Unix(0, last.Load())) > w.cfg.StallTimeout {
					cancel(errStalled)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// progressReader counts the bytes read from it and when.
type progressReader struct {
	r    io.Reader
	sent *atomic.Int64
	last atomic.Int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	// Hand the transport small pieces so progress is seen on a slow link.
	if len(b) > 16<<10 {
		b = b[:16<<10]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.sent.Add(int64(n))
		p.last.Store(time.Now().UnixNano())
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
