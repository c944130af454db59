// Package alert is the kiosk's early warning: signals that, many in a short
// window for one subject, suggest fraud or abuse raise an alert that staff
// see on the console and in `motcua doctor`, and that the audit log
// records. The rules: the same citizen ID number submitted again and
// again, a flood of submissions from one kiosk, repeated failed staff PINs.
//
// An ID number is personal data: it is never stored, only its keyed hash
// (HMAC-SHA256 under a key kept in the data directory), so the alert tables
// and the audit log can tell that the same number came back without
// holding it.
package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/keyfile"
)

// Kind names a rule.
type Kind string

// The rules.
const (
	// SameID: the same citizen ID number in many submissions; the subject
	// is the number, hashed.
	SameID Kind = "same_id"
	// KioskFlood: many submissions from one kiosk; the subject is the
	// kiosk (its actor or device name).
	KioskFlood Kind = "kiosk_flood"
	// FailedPIN: many failed PINs at the staff login; the subject is the
	// login name. The staff login calls Record with it on each failure.
	FailedPIN Kind = "failed_pin"
)

// ErrUnknownKind is returned (wrapped) by Record for a kind with no rule.
var ErrUnknownKind = errors.New("no alert rule of that kind")

// personal reports whether a kind's subject is personal data, kept only
// as a keyed hash.
func (k Kind) personal() bool { return k == SameID }

// Rule raises an alert when Count signals for one subject come within
// Window.
type Rule struct {
	Count  int
	Window time.Duration
}

// Rules are the thresholds of each kind.
type Rules map[Kind]Rule

// DefaultRules are the thresholds when the configuration says nothing.
func DefaultRules() Rules {
	return Rules{
		SameID:     {Count: 3, Window: time.Hour},
		KioskFlood: {Count: 30, Window: 10 * time.Minute},
		FailedPIN:  {Count: 5, Window: 15 * time.Minute},
	}
}

// KeySize is the size of the key that hashes personal subjects.
const KeySize = 32

// KeyFile is the name of that key's file in the data directory.
const KeyFile = "alert.key"

// LoadOrCreateKey returns the key at path, making it if there is none.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, _, err := keyfile.LoadOrCreate(path, KeySize)
	if err != nil {
		return nil, fmt.Errorf("alert key: %w", err)
	}
	return key, nil
}

// Alert is a raised alert, as staff see it.
type Alert struct {
	ID   int64 `json:"id"`
	Kind Kind  `json:"kind"`
	// Subject is the login or kiosk, or for an ID number the first 12 hex
	// digits of its keyed hash: enough to tell two alerts apart, not the
	// number.
	Subject  string        `json:"subject"`
	Count    int           `json:"count"`
	Window   time.Duration `json:"window"`
	FirstAt  time.Time     `json:"first_at"`
	RaisedAt time.Time     `json:"raised_at"`
}

// Message says what the alert is about, for the staff console and doctor.
func (a Alert) Message() i18n.Text {
	mins := int(a.Window / time.Minute)
	switch a.Kind {
	case SameID:
		return i18n.Tf("Cùng một số căn cước (mã %[3]s) được nộp %[1]d lần trong %[2]d phút",
			"the same ID number (hash %[3]s) was submitted %[1]d times in %[2]d minutes", a.Count, mins, a.Subject)
	case KioskFlood:
		return i18n.Tf("Máy %[3]s nhận %[1]d hồ sơ trong %[2]d phút",
			"kiosk %[3]s took %[1]d submissions in %[2]d minutes", a.Count, mins, a.Subject)
	case FailedPIN:
		return i18n.Tf("Tài khoản %[3]s nhập sai mã PIN %[1]d lần trong %[2]d phút",
			"login %[3]s failed its PIN %[1]d times in %[2]d minutes", a.Count, mins, a.Subject)
	}
	return i18n.Tf("Cảnh báo %[3]s: %[1]d lần trong %[2]d phút", "alert %[3]s: %[1]d times in %[2]d minutes",
		a.Count, mins, string(a.Kind))
}

// Monitor records signals in the store and raises alerts by its rules.
// Its methods are safe for concurrent use, and several processes may
// share one store.
type Monitor struct {
	store *store.Store
	rules Rules
	key   []byte
	actor string
	log   *slog.Logger
}

// Options configure a Monitor.
type Options struct {
	// Rules are the thresholds; nil means DefaultRules, and a kind left
	// out keeps its default.
	Rules Rules
	// Actor is recorded in an alert's audit event; "" is "alert".
	Actor  string
	Logger *slog.Logger // nil: discard
}

// New returns a Monitor over st; key hashes personal subjects (see
// LoadOrCreateKey) and must be KeySize bytes.
func New(st *store.Store, key []byte, opts Options) (*Monitor, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("alert key: %d bytes, want %d", len(key), KeySize)
	}
	rules := DefaultRules()
	for k, r := range opts.Rules {
		rules[k] = r
	}
	if opts.Actor == "" {
		opts.Actor = "alert"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Monitor{store: st, rules: rules, key: key, actor: opts.Actor, log: opts.Logger}, nil
}

// subject is how subject is stored: as it is, or for a personal kind its
// keyed hash.
func (m *Monitor) subject(kind Kind, subject string) string {
	if !kind.personal() {
		return subject
	}
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte("motcua-alert-v1\x00" + string(kind) + "\x00" + subject))
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// Record records one signal of kind for subject (an ID number, a kiosk, a
// login) and returns the alert it raises, or nil. An alert is logged as a
// warning and written to the audit log with the subject hashed when it
// is personal.
func (m *Monitor) Record(ctx context.Context, kind Kind, subject string) (*Alert, error) {
	r, ok := m.rules[kind]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	rec, err := m.store.RecordSignal(ctx, string(kind), m.subject(kind, subject), r.Window, r.Count, m.actor)
	if err != nil || rec == nil {
		return nil, err
	}
	a := fromRecord(*rec)
	m.log.Warn("early-warning alert", "kind", a.Kind, "subject", a.Subject, "count", a.Count, "window", a.Window)
	return &a, nil
}

// Recent is how far back Current looks.
const Recent = 24 * time.Hour

// Current returns the alerts raised in the last 24 hours by the store's
// clock, newest first.
func (m *Monitor) Current(ctx context.Context, now time.Time) ([]Alert, error) {
	return Since(ctx, m.store, now.Add(-Recent))
}

// Since returns the alerts st holds raised at or after since, newest
// first; `motcua doctor` reads them from a read-only store.
func Since(ctx context.Context, st *store.Store, since time.Time) ([]Alert, error) {
	recs, err := st.Alerts(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]Alert, len(recs))
	for i, r := range recs {
		out[i] = fromRecord(r)
	}
	return out, nil
}

func fromRecord(r store.AlertRecord) Alert {
	subject := r.Subject
	if Kind(r.Kind).personal() && len(subject) > 12 {
		subject = subject[:12]
	}
	return Alert{ID: r.ID, Kind: Kind(r.Kind), Subject: subject, Count: r.Count, Window: r.Window,
		FirstAt: r.FirstAt, RaisedAt: r.RaisedAt}
}
