package portal

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// statusChecksumMismatch is tus's answer to a chunk whose checksum fails.
const statusChecksumMismatch = 460

// checksumAlgorithms are the tus checksum extension's algorithms the portal
// verifies.
var checksumAlgorithms = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New}

// withChecksum adds the tus checksum extension, which tusd lacks, in front
// of the tus handler. A chunk that fails its checksum, or that a cut leaves
// incomplete, is discarded, as the extension requires, so a checksummed
// chunk must be whole before tusd sees a byte of it. It is never held in
// memory: what cannot be accepted is refused before its body is read (a
// PATCH to an upload that does not exist with 404, a chunk larger than what
// is left of its upload with 413), and the rest streams through the hash
// into a spool file on disk (sealed, see spool.go), at most MaxUploadSize
// bytes, that tusd then reads. Requests without the header stream straight through, so a cut
// keeps the bytes that arrived and the upload resumes from them.
func (s *Server) withChecksum(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(&extensionWriter{ResponseWriter: w, expiration: s.cfg.UploadExpiry > 0}, r)
			return
		}
		spec := r.Header.Get("Upload-Checksum")
		if spec == "" || (r.Method != http.MethodPatch && r.Method != http.MethodPost) {
			next.ServeHTTP(w, r)
			return
		}
		alg, sum, ok := strings.Cut(spec, " ")
		newHash, known := checksumAlgorithms[alg]
		want, err := base64.StdEncoding.DecodeString(sum)
		if !ok || !known || err != nil {
			refuseUnread(w, http.StatusBadRequest, portalapi.CodeMalformed,
				"Upload-Checksum must be 'sha1 BASE64' or 'sha256 BASE64'")
			return
		}
		limit, status, code, msg := s.chunkLimit(r)
		if status != 0 {
			refuseUnread(w, status, code, msg)
			return
		}
		if r.ContentLength > limit {
			refuseUnread(w, http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("chunk of %d bytes is larger than the %d bytes left of the upload", r.ContentLength, limit))
			return
		}
		spool, err := s.createSpool()
		if err != nil {
			s.log.Error("checksum: spool a chunk", "err", err)
			refuseUnread(w, http.StatusInternalServerError, "internal", "cannot take the chunk now")
			return
		}
		defer func() {
			spool.Close()
			os.Remove(spool.Name())
		}()
		h := newHash()
		body := &progressReader{r: r.Body, rc: http.NewResponseController(w), timeout: s.cfg.NetworkTimeout,
			stop: bodyInterruptFrom(r.Context())}
		sealed := newSpoolWriter(spool)
		n, err := io.Copy(io.MultiWriter(sealed, h), io.LimitReader(body, limit+1))
		switch {
		case err != nil:
			// Cut: nothing of it is kept.
			writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "incomplete chunk discarded", nil)
			return
		case n > limit:
			refuseUnread(w, http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("chunk is larger than the %d bytes left of the upload: discarded", limit))
			return
		case !bytes.Equal(h.Sum(nil), want):
			writeError(w, statusChecksumMismatch, portalapi.CodeChecksumMismatch, "chunk does not match Upload-Checksum: discarded", nil)
			return
		}
		rd, err := sealed.reader()
		if err != nil {
			s.log.Error("checksum: rewind a spooled chunk", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "cannot take the chunk now", nil)
			return
		}
		r.Body = io.NopCloser(rd)
		r.ContentLength = n
		next.ServeHTTP(w, r)
	})
}

// chunkLimit is the most bytes a checksummed request may carry: what is
// left of the upload a PATCH addresses, or the Upload-Length of a creating
// POST. If the request cannot be accepted whatever its body, it returns the
// status, code and message to refuse it with.
func (s *Server) chunkLimit(r *http.Request) (limit int64, status int, code, msg string) {
	if r.Method == http.MethodPost {
		n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
		switch {
		case err != nil || n < 0:
			return 0, http.StatusBadRequest, portalapi.CodeMalformed, "Upload-Length is required"
		case n > MaxUploadSize:
			return 0, http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("Upload-Length %d is over the portal's %d bytes", n, MaxUploadSize)
		}
		return n, 0, "", ""
	}
	// The ownership check (an upload of another device is answered as
	// missing) belongs here too, before the body is read.
	id := strings.TrimPrefix(r.URL.Path, portalapi.PathUploads)
	notFound := func() (int64, int, string, string) {
		return 0, http.StatusNotFound, portalapi.CodeNotFound, "no such upload"
	}
	if id == "" || strings.Contains(id, "/") {
		return notFound()
	}
	up, err := s.uploads.GetUpload(r.Context(), id)
	if err != nil {
		return notFound()
	}
	info, err := up.GetInfo(r.Context())
	if err != nil {
		return notFound()
	}
	return info.Size - info.Offset, 0, "", ""
}

// refuseUnread answers a request whose body the portal will not read, and
// closes the connection rather than drain what the client goes on sending.
func refuseUnread(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Connection", "close")
	writeError(w, status, code, msg, nil)
}

// progressReader reads a request body with a deadline that moves on with
// every read, so a slow upload that keeps sending is never cut, while one
// that stops for timeout is.
type progressReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	// stop, if set, interrupts the reads when another request wants the
	// upload's lock.
	stop *bodyInterrupt
}

func (p *progressReader) Read(b []byte) (int, error) {
	if p.timeout > 0 {
		var err error
		if p.stop != nil {
			err = p.stop.setDeadline(time.Now().Add(p.timeout))
		} else {
			err = p.rc.SetReadDeadline(time.Now().Add(p.timeout))
		}
		if err != nil && !errors.Is(err, http.ErrNotSupported) {
			return 0, err
		}
	} else if p.stop != nil && p.stop.interrupted() {
		return 0, errInterrupted
	}
	return p.r.Read(b)
}

// extensionWriter advertises the checksum extension, and expiration when
// uploads expire, on tus's OPTIONS answer.
type extensionWriter struct {
	http.ResponseWriter
	// expiration advertises the expiration extension too.
	expiration bool
	done       bool
}

func (e *extensionWriter) WriteHeader(code int) {
	if !e.done {
		e.done = true
		h := e.Header()
		if ext := h.Get("Tus-Extension"); ext != "" {
			ext += ",checksum"
			if e.expiration {
				ext += ",expiration"
			}
			h.Set("Tus-Extension", ext)
			h.Set("Tus-Checksum-Algorithm", "sha1,sha256")
		}
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *extensionWriter) Write(b []byte) (int, error) {
	if !e.done {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}
