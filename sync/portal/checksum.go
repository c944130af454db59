package portal

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/motcua/motcua/sync/portalapi"
)

// statusChecksumMismatch is tus's answer to a chunk whose checksum fails.
const statusChecksumMismatch = 460

// checksumAlgorithms are the tus checksum extension's algorithms the portal
// verifies.
var checksumAlgorithms = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New}

// withChecksum adds the tus checksum extension, which tusd lacks, in front
// of the tus handler. A request with Upload-Checksum is read whole and
// verified before tusd sees a byte of it: a chunk that fails, or that a cut
// leaves incomplete, is discarded, as the extension requires. Requests
// without the header stream straight through, so a cut keeps the bytes that
// arrived and the upload resumes from them.
func withChecksum(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(&extensionWriter{ResponseWriter: w}, r)
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
			writeError(w, http.StatusBadRequest, portalapi.CodeMalformed,
				"Upload-Checksum must be 'sha1 BASE64' or 'sha256 BASE64'", nil)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxUploadSize+1))
		if err != nil || len(body) > MaxUploadSize {
			// Cut or oversized: nothing of it is kept.
			writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "incomplete or oversized chunk discarded", nil)
			return
		}
		h := newHash()
		h.Write(body)
		if !bytes.Equal(h.Sum(nil), want) {
			writeError(w, statusChecksumMismatch, portalapi.CodeChecksumMismatch, "chunk does not match Upload-Checksum: discarded", nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// extensionWriter advertises the checksum extension on tus's OPTIONS answer.
type extensionWriter struct {
	http.ResponseWriter
	done bool
}

func (e *extensionWriter) WriteHeader(code int) {
	if !e.done {
		e.done = true
		h := e.Header()
		if ext := h.Get("Tus-Extension"); ext != "" {
			h.Set("Tus-Extension", ext+",checksum")
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
