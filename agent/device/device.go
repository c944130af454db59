// Package device defines what the agent needs from the kiosk's hardware:
// an ID card reader, a document scanner and a receipt printer. The core and
// the kiosk screens depend on these interfaces only; devices/ implements
// them (devices/cardreader, devices/scanner, devices/printer) and
// devices/sim simulates them.
//
// Device errors that a citizen or the staff must act on (a paper jam, an
// open cover, no scanner) are *i18n.Error values, so a screen can show
// their Vietnamese message with errors.As.
package device

import (
	"context"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/identity"
)

// CardEvent is one frame read from an ID card reader: a card, or what was
// wrong with the frame. An inconsistent card (its ID disagreeing with its
// date of birth or sex) is an error the staff must see, never a silent
// fill.
type CardEvent struct {
	Card identity.Card
	Err  error
	Raw  []byte
	At   time.Time
}

// CardReader delivers the ID cards shown to a reader.
type CardReader interface {
	// Run reads cards until ctx ends, sending one event per frame. It
	// keeps trying while the reader is missing or unplugged.
	Run(ctx context.Context, events chan<- CardEvent) error
}

// Document is scanned evidence, ready to attach to an application.
type Document struct {
	PDF   []byte // one PDF of all the pages
	Pages int
}

// Scanner scans paper evidence.
type Scanner interface {
	// ScanDocument scans every page the scanner holds (its feeder, or
	// the glass) into one PDF. When a jam or an open cover stops it after
	// some pages, it returns those pages as the Document (Pages > 0)
	// together with a *ScanStoppedError that wraps the cause, so the
	// citizen can keep them and rescan only the rest.
	ScanDocument(ctx context.Context) (Document, error)
}

// ProgressScanner is a Scanner that reports each page as it comes in.
type ProgressScanner interface {
	Scanner
	// ScanDocumentProgress is ScanDocument calling page with the number
	// of pages scanned so far (1, 2, ...) after each page. page may be
	// called from another goroutine, never concurrently, and always
	// before ScanDocumentProgress returns; it must not block for long.
	ScanDocumentProgress(ctx context.Context, page func(n int)) (Document, error)
}

// ScanStoppedError is the error a Scanner returns with the pages it
// scanned before a fault stopped it. Err is the fault (an *i18n.Error
// such as a paper jam, for errors.As), and Pages how many pages the
// returned Document holds.
type ScanStoppedError struct {
	Pages int
	Err   error
}

func (e *ScanStoppedError) Error() string {
	return fmt.Sprintf("scan stopped after %d page(s): %v", e.Pages, e.Err)
}

// Unwrap returns the fault that stopped the scan.
func (e *ScanStoppedError) Unwrap() error { return e.Err }

// Receipt is what the citizen takes home.
type Receipt struct {
	Procedure string    // the procedure's name
	Applicant string    // the applicant's full name
	LocalID   int64     // the kiosk's id of the application
	FileCode  string    // the portal's file code, once known
	At        time.Time // when the application was captured
	NextSteps []string  // what happens next, in plain words
	// TrackURL is the tracking page the QR code points to.
	TrackURL string
}

// ReceiptPrinter prints receipts.
type ReceiptPrinter interface {
	Print(ctx context.Context, r Receipt) error
}
