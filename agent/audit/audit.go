// Package audit is the append-only, hash-chained event log. Each event
// carries the hash of the event before it, so removing, reordering or editing
// any event breaks the chain at that point and Verify reports where.
//
// Events hold no personal data: they name applications by local id and
// idempotency key only, so the log can be kept after personal data is purged.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// HashSize is the size of an event hash in bytes.
const HashSize = sha256.Size

// Genesis is the previous-hash of the first event.
var Genesis = make([]byte, HashSize)

// ErrBroken is returned (wrapped) by Verify when the chain does not hold.
var ErrBroken = errors.New("audit chain broken")

// Event kinds.
const (
	KindCreated    = "created"    // an application was captured
	KindTransition = "transition" // an application changed state
	KindAttachment = "attachment" // evidence was attached
	// KindRedelivery: an application the portal no longer has (its records
	// were made anew) was queued again, its old file code kept.
	KindRedelivery = "redelivery"
	// KindPortal: the kiosk's portal changed identity (application 0).
	KindPortal = "portal"
)

// Event is one entry of the log.
type Event struct {
	Seq           int64     // position in the log, from 1, without gaps
	At            time.Time // when it happened (stored in UTC)
	ApplicationID int64     // the application concerned, 0 for none
	Kind          string
	From, To      string // the states of a transition
	Actor         string // who caused it: "cli", "kiosk", "uplink", "portal", ...
	Detail        string // a short JSON or text detail; never personal data
	PrevHash      []byte
	Hash          []byte
}

// TimeFormat is how At is encoded, in the hash and in storage.
const TimeFormat = time.RFC3339Nano

// Sum computes the event's hash over its fields and prev, the hash of the
// event before it. The encoding is length-prefixed, so no two different
// events hash the same input.
func (e *Event) Sum(prev []byte) []byte {
	var buf bytes.Buffer
	buf.WriteString("motcua-audit-v1")
	field := func(b []byte) {
		var n [binary.MaxVarintLen64]byte
		buf.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		buf.Write(b)
	}
	num := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		field(n[:])
	}
	field(prev)
	num(e.Seq)
	field([]byte(e.At.UTC().Format(TimeFormat)))
	num(e.ApplicationID)
	field([]byte(e.Kind))
	field([]byte(e.From))
	field([]byte(e.To))
	field([]byte(e.Actor))
	field([]byte(e.Detail))
	h := sha256.Sum256(buf.Bytes())
	return h[:]
}

// Chain links e after the event whose hash is prev (Genesis for the first):
// it sets e.PrevHash and e.Hash.
func (e *Event) Chain(prev []byte) {
	e.PrevHash = append([]byte(nil), prev...)
	e.Hash = e.Sum(prev)
}

// Verifier checks events one at a time, in log order.
type Verifier struct {
	prev []byte
	seq  int64
}

// NewVerifier returns a Verifier expecting the first event of the log.
func NewVerifier() *Verifier { return &Verifier{prev: Genesis} }

// Add checks the next event: its sequence number follows the previous one,
// it points at the previous event's hash, and its own hash matches its
// content.
func (v *Verifier) Add(e *Event) error {
	if e.Seq != v.seq+1 {
		return fmt.Errorf("%w: event %d follows event %d", ErrBroken, e.Seq, v.seq)
	}
	if !bytes.Equal(e.PrevHash, v.prev) {
		return fmt.Errorf("%w: event %d points at %s, but event %d hashes to %s",
			ErrBroken, e.Seq, short(e.PrevHash), v.seq, short(v.prev))
	}
	if want := e.Sum(v.prev); !bytes.Equal(e.Hash, want) {
		return fmt.Errorf("%w: event %d was altered: stored hash %s, content hashes to %s",
			ErrBroken, e.Seq, short(e.Hash), short(want))
	}
	v.prev = e.Hash
	v.seq = e.Seq
	return nil
}

// Count returns how many events have been verified.
func (v *Verifier) Count() int64 { return v.seq }

// Head returns the hash of the last verified event (Genesis if none).
func (v *Verifier) Head() []byte { return append([]byte(nil), v.prev...) }

func short(h []byte) string {
	s := hex.EncodeToString(h)
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

// MACSize is the size of an event's MAC in bytes.
const MACSize = sha256.Size

// MAC returns the keyed MAC of an event whose hash is hash: HMAC-SHA256
// under key. The hash chain alone can be recomputed by anyone who holds
// the log; the MAC only by someone who also holds the key, kept apart
// from the log.
func MAC(key, hash []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("motcua-audit-mac-v1"))
	m.Write(hash)
	return m.Sum(nil)
}

// CheckMAC reports whether mac is the MAC of hash under key.
func CheckMAC(key, hash, mac []byte) bool { return hmac.Equal(mac, MAC(key, hash)) }
