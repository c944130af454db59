package portal

import (
	"encoding/json"
	"net/http"
	"strings"

	tushandler "github.com/tus/tusd/v2/pkg/handler"
	expslog "golang.org/x/exp/slog"

	"github.com/motcua/motcua/sync/portalapi"
)

// tusVersion is the one tus version the portal speaks.
const tusVersion = "1.0.0"

// withTusProtocol holds the uploads to tus 1.0 where tusd or the layers in
// front of it fall short: every answer carries Tus-Resumable, errors from
// the portal's own layers (401, 404, 413, 460) included; a request without
// Tus-Resumable 1.0.0 gets 412 with Tus-Version; a PATCH that is not
// application/offset+octet-stream gets 415 (tusd answers 400); and the
// answers to a creation and a PATCH carry Upload-Expires (the expiration
// extension) unless uploads never expire.
func (s *Server) withTusProtocol(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Tus-Resumable", tusVersion)
		switch {
		case r.Method == http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Tus-Resumable") != tusVersion:
			w.Header().Set("Tus-Version", tusVersion)
			refuseUnread(w, http.StatusPreconditionFailed, portalapi.CodeMalformed,
				"Tus-Resumable must be "+tusVersion+", the tus version this portal speaks")
			return
		case r.Method == http.MethodPatch && r.Header.Get("Content-Type") != "application/offset+octet-stream":
			refuseUnread(w, http.StatusUnsupportedMediaType, portalapi.CodeMalformed,
				"a PATCH must have Content-Type application/offset+octet-stream")
			return
		}
		if s.cfg.UploadExpiry > 0 && (r.Method == http.MethodPost || r.Method == http.MethodPatch) {
			w = &expiresWriter{ResponseWriter: w, s: s}
		}
		next.ServeHTTP(w, r)
	})
}

// expiresWriter adds Upload-Expires to a successful creation or PATCH that
// did not file an application (alone, or any of a shared upload's): the
// upload expires UploadExpiry after these bytes unless more arrive.
type expiresWriter struct {
	http.ResponseWriter
	s    *Server
	done bool
}

func (e *expiresWriter) WriteHeader(code int) {
	if !e.done {
		e.done = true
		h := e.Header()
		if (code == http.StatusCreated || code == http.StatusNoContent) && h.Get(portalapi.HeaderReceipt) == "" &&
			!filedAny(h.Get(portalapi.HeaderReceipts)) {
			h.Set("Upload-Expires", e.s.now().Add(e.s.cfg.UploadExpiry).UTC().Format(http.TimeFormat))
		}
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *expiresWriter) Write(b []byte) (int, error) {
	if !e.done {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}

// filedAny reports whether receipts, a shared upload's filings
// (portalapi.HeaderReceipts), hold a receipt.
func filedAny(receipts string) bool {
	var fs []portalapi.Filing
	if receipts == "" || json.Unmarshal([]byte(receipts), &fs) != nil {
		return false
	}
	for _, f := range fs {
		if f.Receipt != nil {
			return true
		}
	}
	return false
}

// Unwrap lets tusd's http.ResponseController reach the connection.
func (e *expiresWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// tusComposer composes the portal's tus store from what it implements: the
// upload store's core (uploads.go) and the locks kept in the records
// (locks.go). Termination, concatenation and deferred lengths are left
// out, so tusd neither advertises nor accepts them: no device deletes an
// upload (see ownUploads), and only the expiry sweeper removes unfiled
// ones, through the upload store directly.
func (s *Server) tusComposer() *tushandler.StoreComposer {
	composer := tushandler.NewStoreComposer()
	composer.UseCore(s.uploads)
	s.locks.UseIn(composer)
	return composer
}

// newTus returns the tus handler of the portal's uploads.
func (s *Server) newTus() (*tushandler.Handler, error) {
	base := portalapi.PathUploads
	if s.cfg.BaseURL != "" {
		base = strings.TrimSuffix(s.cfg.BaseURL, "/") + portalapi.PathUploads
	}
	return tushandler.NewHandler(tushandler.Config{
		StoreComposer:        s.tusComposer(),
		BasePath:             base,
		MaxSize:              MaxUploadSize,
		DisableDownload:      true,
		DisableConcatenation: true,
		// tusd v2 logs through golang.org/x/exp/slog: its errors go to
		// the portal's log (tusLog), its request log is dropped.
		Logger:                    expslog.New(expslog.NewTextHandler(tusLog{s}, &expslog.HandlerOptions{Level: expslog.LevelError})),
		PreUploadCreateCallback:   s.preUploadCreate,
		PreFinishResponseCallback: s.preFinish,
		NetworkTimeout:            s.cfg.NetworkTimeout,
	})
}
