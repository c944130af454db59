package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/sync/portalapi"
	"github.com/motcua/motcua/sync/s3uploads"
)

// ownUploads lets a device reach only its own uploads. It stands in front of
// the tus handler, after authentication: a request on an upload that another
// device created is answered 404, exactly as for an upload that does not
// exist, so a device learns nothing of another's uploads (not even that one
// exists), reads no metadata, adds no byte and deletes nothing.
//
// No device deletes an upload, its owner included (405): a complete upload
// is the evidence of a filed application, or may be filed at any moment by
// its manifest, and the uplink never needs to delete one. The tus store is
// composed without termination (tusComposer), so OPTIONS does not advertise
// it.
func (s *Server) ownUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		id := strings.Trim(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(portalapi.PathUploads, "/")), "/")
		if id == "" {
			// Creation: preUploadCreate names the upload after the device.
			next.ServeHTTP(w, r)
			return
		}
		owned, err := s.owns(r, deviceFrom(r.Context()), id)
		if err != nil {
			s.uploadsUnavailable(w, r, err)
			return
		}
		if !owned {
			writeError(w, http.StatusNotFound, portalapi.CodeNotFound, "no such upload", nil)
			return
		}
		if r.Method == http.MethodDelete {
			w.Header().Set("Allow", "HEAD, PATCH")
			writeError(w, http.StatusMethodNotAllowed, portalapi.CodeConflict,
				"uploads are kept as the evidence of applications and cannot be deleted", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// owns reports whether upload id exists and was created by device.
// preUploadCreate names every upload DEVICEID-NAME and records device_id in
// its metadata; both must agree. It fails when the store cannot tell: an
// upload the store could not read is not one that does not exist, and a
// 404 would have the kiosk create it again.
func (s *Server) owns(r *http.Request, device, id string) (bool, error) {
	name, ok := strings.CutPrefix(id, device+"-")
	if device == "" || !ok || !uploadNameRe.MatchString(name) {
		return false, nil
	}
	up, err := s.uploads.GetUpload(r.Context(), id)
	if err == nil {
		var info tushandler.FileInfo
		if info, err = up.GetInfo(r.Context()); err == nil {
			return info.MetaData["device_id"] == device, nil
		}
	}
	if errors.Is(err, tushandler.ErrNotFound) || halfMade(err) {
		return false, nil
	}
	return false, fmt.Errorf("read upload %s: %w", id, err)
}

// halfMade reports whether err says an upload's info is there but does
// not read (empty, cut short, or not opening), as a full disk or a crash
// leaves it: no request can complete that upload, so it is answered as
// one that does not exist (halfmade.go), unlike a store that fails.
func halfMade(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.Is(err, ErrSealed) || errors.Is(err, s3uploads.ErrSealed) || errors.Is(err, seal.ErrBroken) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntax) || errors.As(err, &typ)
}

// uploadsRetryAfter is the wait a device is asked for when the portal
// cannot read its uploads.
const uploadsRetryAfter = 10 * time.Second

// uploadsUnavailable answers 503 with Retry-After for a failure of the
// upload store (a bucket that does not answer), logged (rate-limited with
// the other server errors): the kiosk resumes later, as after a cut.
func (s *Server) uploadsUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.failures.log(s.log, time.Now(), "the upload store failed", "method", r.Method, "path", r.URL.Path,
		"err", err, "client_gone", r.Context().Err() != nil)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(uploadsRetryAfter)))
	writeError(w, http.StatusServiceUnavailable, portalapi.CodeUnavailable, "the portal cannot reach its uploads: retry later", nil)
}
