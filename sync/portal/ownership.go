package portal

import (
	"net/http"
	"strings"

	"github.com/motcua/motcua/sync/portalapi"
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
		if !s.owns(r, deviceFrom(r.Context()), id) {
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
// its metadata; both must agree.
func (s *Server) owns(r *http.Request, device, id string) bool {
	name, ok := strings.CutPrefix(id, device+"-")
	if device == "" || !ok || !uploadNameRe.MatchString(name) {
		return false
	}
	up, err := s.uploads.GetUpload(r.Context(), id)
	if err != nil {
		return false
	}
	info, err := up.GetInfo(r.Context())
	return err == nil && info.MetaData["device_id"] == device
}
