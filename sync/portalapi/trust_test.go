package portalapi

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

// A signature verifies for the very device, key and bytes signed, and for
// nothing else: each part of the message is bound.
func TestManifestSignatureBindsDeviceKeyAndBytes(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	manifest := []byte(`{"idempotency_key":"key-00000001","form":{}}`)
	sig := Sign(key, ManifestMessage("dev-1", "key-00000001", manifest))
	if !Verify(pub, ManifestMessage("dev-1", "key-00000001", manifest), sig) {
		t.Fatal("a signature does not verify")
	}
	for _, tt := range []struct {
		name         string
		device, idem string
		body         []byte
	}{
		{"another device", "dev-2", "key-00000001", manifest},
		{"another key", "dev-1", "key-00000002", manifest},
		{"other bytes", "dev-1", "key-00000001", []byte(strings.Replace(string(manifest), "{}", `{"a":1}`, 1))},
		// The separators keep the parts apart: "dev-1\nkey" is not "dev-1\n" + "key".
		{"shifted parts", "dev-1\nkey-00000001", "", manifest},
	} {
		if Verify(pub, ManifestMessage(tt.device, tt.idem, tt.body), sig) {
			t.Errorf("%s: the signature verifies", tt.name)
		}
	}
	if Verify(pub, ManifestMessage("dev-1", "key-00000001", manifest), "not base64!") || Verify(nil, manifest, sig) {
		t.Error("garbage verifies")
	}
}

// An enrollment's signature binds the portal instance, the claimed id, the
// key, the code and the time.
func TestEnrollSignatureBindsItsFields(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	r := EnrollRequest{DeviceName: "k", DeviceID: "dev-1", Code: "ABCD", PublicKey: EncodePublicKey(pub), SignedAt: time.Unix(1, 5)}
	sig := Sign(key, EnrollMessage("p-1", r))
	if !Verify(pub, EnrollMessage("p-1", r), sig) {
		t.Fatal("does not verify")
	}
	changed := []EnrollRequest{r, r, r, r}
	changed[0].DeviceID = "dev-2"
	changed[1].Code = "ABCE"
	changed[2].SignedAt = time.Unix(1, 6)
	changed[3].PublicKey = EncodePublicKey(make([]byte, 32))
	for i, c := range changed {
		if Verify(pub, EnrollMessage("p-1", c), sig) {
			t.Errorf("change %d verifies", i)
		}
	}
	if Verify(pub, EnrollMessage("p-2", r), sig) {
		t.Error("another instance verifies")
	}
	if _, err := DecodePublicKey("c2hvcnQ="); err == nil {
		t.Error("a short key decodes")
	}
}

// BenchmarkSignAndVerifyManifest measures what a signature costs a
// manifest of 3 KB (the largest form of the catalog): the kiosk signs it
// once, the portal verifies it once.
func BenchmarkSignAndVerifyManifest(b *testing.B) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	manifest := []byte(strings.Repeat("x", 3<<10))
	for b.Loop() {
		sig := Sign(key, ManifestMessage("dev-0123456789abcdef", "key-00000001", manifest))
		if !Verify(pub, ManifestMessage("dev-0123456789abcdef", "key-00000001", manifest), sig) {
			b.Fatal("does not verify")
		}
	}
}
