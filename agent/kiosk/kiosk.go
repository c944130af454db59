// Package kiosk holds the agent's use cases as a service that both the CLI
// and the screens call: a citizen session (choose a procedure, fill the form
// from the ID card, validate a step, scan evidence, review, submit, wipe),
// receipts and tracking, and the counter's queue. It knows no screen, no
// serial port and no HTTP: devices come in through agent/device's
// interfaces, the portal through Tracker, and changes reach the screens
// through agent/status.
package kiosk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
)

// Sentinel errors, returned wrapped with context. Errors a citizen sees are
// *i18n.Error values that wrap them.
var (
	// ErrNoProcedure: no procedure is chosen, or the catalog has none by
	// that id or code.
	ErrNoProcedure = errors.New("no such procedure")
	// ErrNoScanner: the kiosk has no scanner configured.
	ErrNoScanner = errors.New("no scanner")
	// ErrNoPrinter: the kiosk has no receipt printer configured.
	ErrNoPrinter = errors.New("no receipt printer")
	// ErrNotFound: no application matches.
	ErrNotFound = errors.New("not found")
	// ErrWiped: the session was wiped while a scan ran; its pages were
	// dropped.
	ErrWiped = errors.New("session wiped")
	// ErrKeyReused: an idempotency key names an application stored with a
	// different procedure or form.
	ErrKeyReused = errors.New("idempotency key already used for a different application")
)

// MaxAttachmentBytes bounds one attachment. A scanned page compresses to
// well under 1 MB; this leaves room for multi-page PDFs.
const MaxAttachmentBytes = 20 << 20

// Config is what a Service needs. Store and Catalog are required; every
// other field may be left zero.
type Config struct {
	Store    *store.Store
	Catalog  *procedure.Catalog
	Scanner  device.Scanner                    // nil: no scanner
	Printer  device.ReceiptPrinter             // nil: no printer
	Status   *status.Hub                       // nil: no status
	Tracker  Tracker                           // nil: offline tracking only
	TrackURL func(fileCode, key string) string // the receipt QR's link; nil or "": none
	Now      func() time.Time                  // nil: time.Now
	Logger   *slog.Logger                      // nil: discard
	Actor    string                            // "kiosk", "counter", "cli": recorded in the audit log; "" is "kiosk"
	Alerts   *alert.Monitor                    // nil: no early warning
}

// Tracker asks the portal for status changes; sync/uplink's Worker
// satisfies it.
type Tracker interface {
	PullStatus(ctx context.Context) (int, error)
}

// Service runs the use cases against one store and catalog. Its methods are
// safe for concurrent use; a Session is not.
type Service struct {
	cfg Config
	log *slog.Logger
	// folded holds each procedure's names, id and code folded for Search,
	// made at the first search.
	searchOnce sync.Once
	folded     []string
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Actor == "" {
		cfg.Actor = "kiosk"
	}
	return &Service{cfg: cfg, log: cfg.Logger}
}

// Catalog returns the catalog the service captures against.
func (s *Service) Catalog() *procedure.Catalog { return s.cfg.Catalog }

// Procedures lists the catalog's procedures, the most used at this kiosk first
// (by applications stored), then in catalog order.
func (s *Service) Procedures(ctx context.Context) ([]*procedure.Procedure, error) {
	out := slices.Clone(s.cfg.Catalog.Procedures)
	if s.cfg.Store == nil {
		return out, nil
	}
	used, err := s.cfg.Store.CountByProcedure(ctx)
	if err != nil {
		return nil, fmt.Errorf("procedures by use: %w", err)
	}
	slices.SortStableFunc(out, func(a, b *procedure.Procedure) int { return cmp.Compare(used[b.ID], used[a.ID]) })
	return out, nil
}

// Search returns the procedures whose name (in either language), id or code
// holds every word of query, ignoring case and Vietnamese diacritics ("khai
// sinh" finds "Đăng ký khai sinh"), in catalog order. An empty query finds
// them all.
func (s *Service) Search(query string) []*procedure.Procedure {
	words := strings.Fields(fold(query))
	s.searchOnce.Do(func() {
		for _, p := range s.cfg.Catalog.Procedures {
			s.folded = append(s.folded, fold(strings.Join([]string{p.Name.VI, p.Name.EN, p.ID, p.Code}, " ")))
		}
	})
	var out []*procedure.Procedure
	for i, p := range s.cfg.Catalog.Procedures {
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(s.folded[i], w) }) {
			out = append(out, p)
		}
	}
	return out
}

// fold lowercases s and strips its diacritics, đ included, so that text
// typed without accents matches.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.NewReplacer("đ", "d", "Đ", "d").Replace(out)
	return strings.ToLower(out)
}

// publish sends e to the status hub, if there is one.
func (s *Service) publish(e status.Event) {
	if s.cfg.Status != nil {
		s.cfg.Status.Publish(e)
	}
}
