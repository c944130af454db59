package portalapi

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Every manifest a device sends is signed with the device's Ed25519 key,
// made on the kiosk at its first enrollment; the portal keeps the public
// key and checks each manifest against it before filing. A signature is
// Ed25519 over ManifestMessage, in standard base64: in MetaSignature for a
// manifest an upload carries (MetaManifest, or the manifest block of
// MetaManifests) and in HeaderSignature for one posted to PathSubmissions.
const (
	MetaSignature   = "signature"
	HeaderSignature = "Motcua-Signature"
)

// More error codes.
const (
	// CodeBadSignature refuses a manifest or an enrollment whose signature
	// does not verify against the device's enrolled key.
	CodeBadSignature = "bad_signature"
	// CodeEnrollCode refuses an enrollment without a valid one-time code
	// (none, unknown, used or expired).
	CodeEnrollCode = "enroll_code"
	// CodeRevoked refuses an enrollment of a device the portal revoked.
	CodeRevoked = "revoked"
)

// ManifestMessage is what a device signs for a manifest: a fixed label,
// the device id, the idempotency key (for an upload of several, the one in
// its metadata) and the manifest's bytes exactly as sent (the JSON of
// MetaManifest or of the request body, or the compressed manifest block).
func ManifestMessage(deviceID, idempotencyKey string, manifest []byte) []byte {
	b := make([]byte, 0, len(manifest)+len(deviceID)+len(idempotencyKey)+32)
	b = append(b, "motcua-manifest-v1\n"...)
	b = append(b, deviceID...)
	b = append(b, '\n')
	b = append(b, idempotencyKey...)
	b = append(b, '\n')
	return append(b, manifest...)
}

// EnrollMessage is what a device signs to enroll: it proves that it holds
// the private key of PublicKey, for the portal instance it asked (Health),
// and, with DeviceID, that it is that device. SignedAt must be later than
// the device's last signed enrollment the portal accepted, so a captured
// enrollment cannot be replayed.
func EnrollMessage(instance string, r EnrollRequest) []byte {
	return fmt.Appendf(nil, "motcua-enroll-v1\n%s\n%s\n%s\n%s\n%s", instance, r.DeviceID, r.PublicKey, r.Code,
		r.SignedAt.UTC().Format(time.RFC3339Nano))
}

// EncodePublicKey is the form of a public key on the wire: standard base64.
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodePublicKey reads a public key in the form EncodePublicKey makes.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q is not %d bytes of standard base64", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// KeyFingerprint names a public key in logs and messages: "ed25519:" and
// the first 16 hex digits of its SHA-256.
func KeyFingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(h[:8])
}

// Sign signs msg with key, in the form the portal reads.
func Sign(key ed25519.PrivateKey, msg []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
}

// Verify reports whether sig, in the form Sign makes, is pub's signature of
// msg.
func Verify(pub ed25519.PublicKey, msg []byte, sig string) bool {
	b, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && len(b) == ed25519.SignatureSize && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, b)
}
