package portalapi

import (
	"bytes"
	"compress/flate"
	"encoding/json"
)

// Several small applications travel in one upload, so that the link does
// not idle for a round trip per application while its receipt comes back.
//
// Such an upload carries MetaManifests instead of MetaManifest. Its first
// bytes are the manifest block: a JSON array of Manifests, compressed with
// DEFLATE (RFC 1951), of the byte length MetaManifests gives in decimal.
// The attachments follow it, and each AttachmentRef.Offset counts from the
// end of the block. When the last byte arrives the portal files each
// manifest in order, as a manifest posted alone would be, and answers with
// HeaderReceipts. Each application keeps its own idempotency key: one filed
// before gets its first receipt again.
const (
	MetaManifests = "manifests"
	// HeaderReceipts carries the Filings, as a JSON array in the order of
	// the manifests, on the response to the request that completed an
	// upload of several applications.
	HeaderReceipts = "Motcua-Receipts"
	// MaxBatch is the most applications one upload may carry.
	MaxBatch = 32
	// MaxManifestBlock bounds the manifest block, compressed and not.
	MaxManifestBlock = 1 << 20
)

// Filing is the portal's answer for one application of an upload of
// several: its receipt, or the status and error the manifest would have
// got if posted alone (RetryAfter in seconds for a 429 or 503).
type Filing struct {
	Receipt    *Receipt `json:"receipt,omitempty"`
	Status     int      `json:"status,omitempty"`
	Error      *Error   `json:"error,omitempty"`
	RetryAfter int      `json:"retry_after,omitempty"`
}

// ManifestBlock encodes manifests as a shared upload's manifest block: a
// DEFLATE-compressed JSON array.
func ManifestBlock(ms []Manifest) ([]byte, error) {
	raw, err := json.Marshal(ms)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
