package portalapi

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"testing"
)

func TestManifestBlockInflatesToTheManifests(t *testing.T) {
	in := []Manifest{{IdempotencyKey: "key-00000001"}, {IdempotencyKey: "key-00000002"}}
	block, err := ManifestBlock(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(block)))
	if err != nil {
		t.Fatalf("the block does not inflate: %v", err)
	}
	var out []Manifest
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 2 || out[1].IdempotencyKey != "key-00000002" {
		t.Fatalf("inflated %s (%v), want the two manifests", raw, err)
	}
}
