// Package status is the kiosk's status surface: typed events about
// delivery to the portal, the devices and the scan in progress, which the
// screens subscribe to instead of reading logs.
//
// The outer packages (sync/uplink, devices/...) publish events to a Hub;
// the screens subscribe to it. The Hub remembers the latest event of each
// kind, so a screen that subscribes late, or reads slowly, still sees the
// current state.
package status

import (
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/i18n"
)

// Event is one change the screens may show. Each concrete type of this
// package (Uplink, Device, ScanProgress) is an Event.
type Event interface{ event() }

// Uplink is the state of delivery to the portal.
type Uplink struct {
	Online       bool      // the portal answered the last contact
	LastContact  time.Time // when the portal last answered; zero: never
	Waiting      int       // applications queued or sending
	WaitingBytes int64     // their size, attachments included
	Sending      *Sending  // nil when nothing is in flight
	// Problem says in plain words why the portal cannot be reached, and
	// that nothing is lost; zero when there is none.
	Problem i18n.Text
}

// Sending is the application being delivered and how far it got.
type Sending struct {
	ID    int64 // the kiosk's id of the application
	Sent  int64 // bytes sent so far (after a cut, from what the portal kept)
	Total int64 // bytes to send in all
}

// DeviceKind names a kind of kiosk device.
type DeviceKind int

// The kinds of device a kiosk has.
const (
	CardReader DeviceKind = iota + 1
	Printer
	Scanner
)

// String returns the kind's English name, for logs.
func (k DeviceKind) String() string {
	switch k {
	case CardReader:
		return "card reader"
	case Printer:
		return "printer"
	case Scanner:
		return "scanner"
	}
	return fmt.Sprintf("DeviceKind(%d)", int(k))
}

// Label returns the kind's name for screens.
func (k DeviceKind) Label() i18n.Text {
	switch k {
	case CardReader:
		return i18n.T("Đầu đọc thẻ căn cước", "ID card reader")
	case Printer:
		return i18n.T("Máy in biên nhận", "Receipt printer")
	case Scanner:
		return i18n.T("Máy quét giấy tờ", "Document scanner")
	}
	return i18n.T(k.String(), k.String())
}

// Device is the state of one device. Devices are told apart by Kind and
// Name.
type Device struct {
	Kind      DeviceKind
	Name      string // the serial port or the SANE device name
	Connected bool
	// Problem is the last error in plain words with what to do; zero when
	// there is none.
	Problem  i18n.Text
	PaperLow bool // printer: the paper is near its end
}

// ScanProgress is the progress of the document being scanned.
type ScanProgress struct {
	Page int  // pages scanned so far in this document
	Done bool // the scan ended (see Problem for how)
	// Problem is what stopped the scan (a jam, an open cover); the pages
	// scanned so far are kept. Zero when there is none.
	Problem i18n.Text
}

func (Uplink) event()       {}
func (Device) event()       {}
func (ScanProgress) event() {}

// Publisher is where events go. *Hub is one; a nil *Hub drops them, so a
// package can take a Publisher in its config and leave it unset.
type Publisher interface {
	Publish(e Event)
}

// Snapshot is the latest state the Hub knows. Its Uplink is the zero
// Uplink (offline, never contacted) until one is published.
type Snapshot struct {
	Uplink  Uplink
	Devices []Device      // by Kind, then Name
	Scan    *ScanProgress // nil before the first scan
}

// events returns the snapshot as the events that built it: the Uplink (if
// one was published), each Device, then the scan's progress.
func (s Snapshot) events(haveUplink bool) []Event {
	var evs []Event
	if haveUplink {
		evs = append(evs, s.Uplink)
	}
	for _, d := range s.Devices {
		evs = append(evs, d)
	}
	if s.Scan != nil {
		evs = append(evs, *s.Scan)
	}
	return evs
}
