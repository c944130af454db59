package portal

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/sync/portalapi"
)

// fileBatch files the applications an upload of several carries
// (portalapi.MetaManifests), once its last byte has arrived, and answers
// with a filing per application. An application refused does not hold back
// the others: its filing says why.
func (s *Server) fileBatch(hook tushandler.HookEvent, blockLen string) (tushandler.HTTPResponse, error) {
	device := hook.Upload.MetaData["device_id"]
	ms, err := s.readManifestBlock(hook, blockLen, device)
	var refused *portalapi.Error
	if errors.As(err, &refused) {
		return tushandler.HTTPResponse{}, protocolError(http.StatusUnprocessableEntity, refused.Code, refused.Message, refused.Fields)
	}
	if errors.Is(err, errUploadUnread) {
		s.log.Error("file a shared upload: read its manifests", "method", hook.HTTPRequest.Method, "upload", hook.Upload.ID, "err", err)
		perr := protocolError(http.StatusServiceUnavailable, portalapi.CodeUnavailable, "the portal cannot reach its uploads: retry later", nil)
		te := perr.(tushandler.Error)
		te.HTTPResponse.Header["Retry-After"] = strconv.Itoa(retryAfterSeconds(uploadsRetryAfter))
		return tushandler.HTTPResponse{}, te
	}
	if err != nil {
		return tushandler.HTTPResponse{}, protocolError(http.StatusUnprocessableEntity, portalapi.CodeMalformed,
			"metadata manifests: "+err.Error(), nil)
	}
	url := portalapi.PathUploads + hook.Upload.ID
	n, _ := strconv.ParseInt(blockLen, 10, 64)
	filings := make([]portalapi.Filing, len(ms))
	for i := range ms {
		m := &ms[i]
		for j := range m.Attachments {
			m.Attachments[j].UploadURL = url
			m.Attachments[j].Offset += n
		}
		rc, status, perr, retry := s.submit(hook.Context, device, m)
		if perr != nil {
			// The upload's answer is 200 whatever its filings say.
			s.metrics.refused(perr.Code, status)
			filings[i] = portalapi.Filing{Status: status, Error: perr}
			if retry > 0 {
				filings[i].RetryAfter = retryAfterSeconds(retry)
			}
			continue
		}
		if !rc.Duplicate {
			s.metrics.filed(filingShared)
		}
		filings[i] = portalapi.Filing{Receipt: &rc}
	}
	b, _ := json.Marshal(filings)
	return tushandler.HTTPResponse{Header: tushandler.HTTPHeader{portalapi.HeaderReceipts: string(b)}}, nil
}

// errUploadUnread is wrapped by the errors of an upload the store could
// not read back: the portal's failure, not the kiosk's.
var errUploadUnread = errors.New("the upload store could not read the upload")

// readManifestBlock reads the manifests at the start of the upload: a
// DEFLATE-compressed JSON array of blockLen bytes, at most
// portalapi.MaxBatch manifests.
// The block's signature is checked before it is read: a refusal is
// returned as a *portalapi.Error.
func (s *Server) readManifestBlock(hook tushandler.HookEvent, blockLen, device string) ([]portalapi.Manifest, error) {
	n, err := strconv.ParseInt(blockLen, 10, 64)
	if err != nil || n <= 0 || n > portalapi.MaxManifestBlock || n > hook.Upload.Size {
		return nil, fmt.Errorf("%q is not a block length within the upload and %d bytes", blockLen, portalapi.MaxManifestBlock)
	}
	up, err := s.uploads.GetUpload(hook.Context, hook.Upload.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUploadUnread, err)
	}
	rd, err := up.GetReader(hook.Context)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUploadUnread, err)
	}
	defer rd.Close()
	block := make([]byte, n)
	if _, err := io.ReadFull(rd, block); err != nil {
		return nil, fmt.Errorf("cannot read the manifest block: %w", err)
	}
	if _, perr := s.checkSignature(hook.Context, device, hook.Upload.MetaData[portalapi.MetaIdempotencyKey], block,
		hook.Upload.MetaData[portalapi.MetaSignature]); perr != nil {
		return nil, perr
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(block)), portalapi.MaxManifestBlock+1))
	if err != nil {
		return nil, fmt.Errorf("the manifest block is not DEFLATE data: %w", err)
	}
	if len(raw) > portalapi.MaxManifestBlock {
		return nil, fmt.Errorf("the manifest block inflates beyond %d bytes", portalapi.MaxManifestBlock)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ms []portalapi.Manifest
	if err := dec.Decode(&ms); err != nil {
		return nil, fmt.Errorf("the manifest block is not a JSON array of manifests: %w", err)
	}
	if len(ms) == 0 || len(ms) > portalapi.MaxBatch {
		return nil, fmt.Errorf("the manifest block holds %d manifests, not 1 to %d", len(ms), portalapi.MaxBatch)
	}
	return ms, nil
}
