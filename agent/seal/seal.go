// Package seal keeps personal data sealed at rest. A record is sealed with
// AES-256-GCM under a data key; data keys are kept in the database, each
// wrapped (sealed) by the key-encryption key (KEK), a 32-byte file that only
// the agent's user may read. The additional data binds a sealed record to
// where it belongs (its table, its record id, its part) and to its key
// version, so a sealed record copied to another row does not open.
//
// There is no OS keyring: kiosks run Debian headless, with no secret
// service (no desktop session unlocks one), so the KEK lives in a 0600
// file in a 0700 directory owned by the agent's user.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors.
var (
	// ErrBroken is wrapped by the errors of a sealed record that does not
	// open: its bytes were changed, it was moved from another record, or
	// it was sealed under another key.
	ErrBroken = errors.New("sealed record does not open: corrupted, moved from another record, or sealed under another key")
	// ErrNoDataKey is wrapped when a record names a data key version the
	// keyring does not hold.
	ErrNoDataKey = errors.New("no such data key")
)

// magic starts every sealed record: a clear form (JSON, '{') or clear
// bytes never start with it by chance in practice, and the version byte
// after it leaves room for another format.
var magic = []byte{0, 'S', 'L', 1}

// overhead is what sealing adds: magic, key version, nonce, tag.
const overhead = 4 + 4 + 12 + 16

// Sealed reports whether b is a sealed record (starts with the seal's
// header), as opposed to clear bytes written before sealing.
func Sealed(b []byte) bool {
	return len(b) >= overhead && string(b[:len(magic)]) == string(magic)
}

// Keyring holds the unwrapped data keys by version and the version new
// records are sealed under. It is safe for concurrent use once made.
type Keyring struct {
	keys    map[uint32]cipher.AEAD
	current uint32
}

// NewKeyring returns a keyring of the data keys by version, sealing under
// current.
func NewKeyring(keys map[uint32][]byte, current uint32) (*Keyring, error) {
	r := &Keyring{keys: map[uint32]cipher.AEAD{}, current: current}
	for v, k := range keys {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("data key %d: %w", v, err)
		}
		r.keys[v] = aead
	}
	if _, ok := r.keys[current]; !ok {
		return nil, fmt.Errorf("data key %d: %w", current, ErrNoDataKey)
	}
	return r, nil
}

// Current returns the version new records are sealed under.
func (r *Keyring) Current() uint32 { return r.current }

// Has reports whether the keyring holds data key version v.
func (r *Keyring) Has(v uint32) bool { _, ok := r.keys[v]; return ok }

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additional builds the additional data of a record: the key version and
// each part of the record's place, length-prefixed so that no two places
// share it.
func additional(version uint32, place []string) []byte {
	ad := binary.BigEndian.AppendUint32(nil, version)
	for _, p := range place {
		ad = binary.AppendUvarint(ad, uint64(len(p)))
		ad = append(ad, p...)
	}
	return ad
}

// Seal seals plain under the current data key, bound to place (for
// example "personal_data", the application id, the part).
func (r *Keyring) Seal(plain []byte, place ...string) []byte {
	return sealWith(r.keys[r.current], r.current, plain, place)
}

// SealAppend seals plain like Seal and appends the sealed record to dst,
// which it grows only if it lacks room: a caller sealing a stream reuses
// one buffer.
func (r *Keyring) SealAppend(dst, plain []byte, place ...string) []byte {
	return appendSealed(dst, r.keys[r.current], r.current, plain, place)
}

// Overhead is how many bytes sealing adds to a record.
const Overhead = overhead

func sealWith(aead cipher.AEAD, version uint32, plain []byte, place []string) []byte {
	return appendSealed(make([]byte, 0, overhead+len(plain)), aead, version, plain, place)
}

func appendSealed(out []byte, aead cipher.AEAD, version uint32, plain []byte, place []string) []byte {
	out = append(out, magic...)
	out = binary.BigEndian.AppendUint32(out, version)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plain, additional(version, place))
}

// Version returns the data key version sealed names, or false if it is
// not a sealed record.
func Version(sealed []byte) (uint32, bool) {
	if !Sealed(sealed) {
		return 0, false
	}
	return binary.BigEndian.Uint32(sealed[4:8]), true
}

// Open opens a record sealed at place. A record that does not open is an
// error wrapping ErrBroken; one under a key version the keyring lacks
// wraps ErrNoDataKey.
func (r *Keyring) Open(sealed []byte, place ...string) ([]byte, error) {
	v, ok := Version(sealed)
	if !ok {
		return nil, fmt.Errorf("%w: it has no seal header", ErrBroken)
	}
	aead, ok := r.keys[v]
	if !ok {
		return nil, fmt.Errorf("sealed under data key %d: %w", v, ErrNoDataKey)
	}
	return openWith(aead, v, sealed, place)
}

// OpenAppend opens sealed like Open and appends the clear bytes to dst,
// which it grows only if it lacks room: a caller opening a stream reuses
// one buffer.
func (r *Keyring) OpenAppend(dst, sealed []byte, place ...string) ([]byte, error) {
	v, ok := Version(sealed)
	if !ok {
		return nil, fmt.Errorf("%w: it has no seal header", ErrBroken)
	}
	aead, ok := r.keys[v]
	if !ok {
		return nil, fmt.Errorf("sealed under data key %d: %w", v, ErrNoDataKey)
	}
	return openAppend(dst, aead, v, sealed, place)
}

// Ephemeral returns a keyring of one random key that is never written
// anywhere: for bytes that must touch the disk only for the time of one
// request (a chunk spooled while its checksum is verified).
func Ephemeral() *Keyring {
	k := make([]byte, KeySize)
	rand.Read(k)
	r, _ := NewKeyring(map[uint32][]byte{1: k}, 1)
	return r
}

func openWith(aead cipher.AEAD, v uint32, sealed []byte, place []string) ([]byte, error) {
	return openAppend(nil, aead, v, sealed, place)
}

func openAppend(dst []byte, aead cipher.AEAD, v uint32, sealed []byte, place []string) ([]byte, error) {
	body := sealed[8:]
	nonce, ct := body[:aead.NonceSize()], body[aead.NonceSize():]
	plain, err := aead.Open(dst, nonce, ct, additional(v, place))
	if err != nil {
		return nil, fmt.Errorf("%w (data key %d)", ErrBroken, v)
	}
	return plain, nil
}

// Place formats a record id for the additional data.
func Place(id int64) string { return strconv.FormatInt(id, 10) }
