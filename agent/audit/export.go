package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ExportFormat names the export file's format.
const ExportFormat = "motcua-audit-export-v1"

// ErrBadExport is returned (wrapped) by ReadExport for a file that is not
// a signed export, whose signature fails, or whose events do not chain.
var ErrBadExport = errors.New("audit export not valid")

// ExportedEvent is an event as an export carries it.
type ExportedEvent struct {
	Seq           int64     `json:"seq"`
	At            time.Time `json:"at"`
	ApplicationID int64     `json:"application_id"`
	Kind          string    `json:"kind"`
	From          string    `json:"from,omitempty"`
	To            string    `json:"to,omitempty"`
	Actor         string    `json:"actor"`
	Detail        string    `json:"detail,omitempty"`
	PrevHash      string    `json:"prev_hash"`
	Hash          string    `json:"hash"`
}

// Export is what an export file states, for inspectors: the events of a
// period, how the whole log stood when they were taken, and who signed it.
type Export struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exported_at"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Device names the kiosk (its data directory or host), for people.
	Device string `json:"device,omitempty"`
	// LogEvents and LogHead are the whole log's length and head hash when
	// the export was made; LogVerified says whether it verified, and
	// LogProblem why not.
	LogEvents   int64           `json:"log_events"`
	LogHead     string          `json:"log_head"`
	LogVerified bool            `json:"log_verified"`
	LogProblem  string          `json:"log_problem,omitempty"`
	Events      []ExportedEvent `json:"events"`
}

// signedFile is the file: the export, the public key and the Ed25519
// signature over the export's compact JSON encoding.
type signedFile struct {
	Export    json.RawMessage `json:"export"`
	PublicKey string          `json:"public_key"`
	Signature string          `json:"signature"`
}

// Exported converts e for an export.
func Exported(e *Event) ExportedEvent {
	return ExportedEvent{Seq: e.Seq, At: e.At.UTC(), ApplicationID: e.ApplicationID, Kind: e.Kind, From: e.From, To: e.To,
		Actor: e.Actor, Detail: e.Detail, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}

// Sign encodes x and signs it with key, returning the file's bytes.
func Sign(x *Export, key ed25519.PrivateKey) ([]byte, error) {
	x.Format = ExportFormat
	body, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("encode audit export: %w", err)
	}
	f := signedFile{Export: body, PublicKey: hex.EncodeToString(key.Public().(ed25519.PublicKey)),
		Signature: hex.EncodeToString(ed25519.Sign(key, body))}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode audit export: %w", err)
	}
	return append(out, '\n'), nil
}

// ReadExport checks an export file: its signature by the key it names
// (and, when trusted is not nil, that this key is trusted), that each
// event's hash matches its content and that consecutive events chain. It
// returns the export and the signer's public key.
func ReadExport(data []byte, trusted ed25519.PublicKey) (*Export, ed25519.PublicKey, error) {
	var f signedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadExport, err)
	}
	pub, err := hex.DecodeString(f.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("%w: public key %q", ErrBadExport, f.PublicKey)
	}
	// The file is indented for people; the signature is over the compact
	// encoding, which compacting gives back byte for byte.
	var body bytes.Buffer
	if err := json.Compact(&body, f.Export); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadExport, err)
	}
	sig, err := hex.DecodeString(f.Signature)
	if err != nil || !ed25519.Verify(pub, body.Bytes(), sig) {
		return nil, nil, fmt.Errorf("%w: the signature does not match the content: the file was changed after it was signed", ErrBadExport)
	}
	if trusted != nil && !bytes.Equal(trusted, pub) {
		return nil, nil, fmt.Errorf("%w: signed by key %s, not the trusted key %s", ErrBadExport, short(pub), short(trusted))
	}
	var x Export
	if err := json.Unmarshal(body.Bytes(), &x); err != nil || x.Format != ExportFormat {
		return nil, nil, fmt.Errorf("%w: format %q (%v)", ErrBadExport, x.Format, err)
	}
	var prev []byte
	for i, ee := range x.Events {
		e := Event{Seq: ee.Seq, At: ee.At, ApplicationID: ee.ApplicationID, Kind: ee.Kind, From: ee.From, To: ee.To,
			Actor: ee.Actor, Detail: ee.Detail}
		e.PrevHash, _ = hex.DecodeString(ee.PrevHash)
		e.Hash, _ = hex.DecodeString(ee.Hash)
		if !bytes.Equal(e.Sum(e.PrevHash), e.Hash) {
			return nil, nil, fmt.Errorf("%w: event %d's hash does not match its content", ErrBadExport, e.Seq)
		}
		if i > 0 && (e.Seq != x.Events[i-1].Seq+1 || !bytes.Equal(e.PrevHash, prev)) {
			// Events of a period are consecutive in the log.
			return nil, nil, fmt.Errorf("%w: event %d does not follow event %d", ErrBadExport, e.Seq, x.Events[i-1].Seq)
		}
		prev = e.Hash
	}
	return &x, pub, nil
}
