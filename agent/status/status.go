// Package status is what the kiosk screens subscribe to: typed events about
// the uplink, the devices and a scan in progress, fanned out by a Hub.
//
// This is a minimal stand-in with exactly the names of KIOSK_API.md, so that
// agent/kiosk compiles before the status helper's package lands; that
// package replaces it.
package status

import (
	"sync"
	"time"

	"github.com/motcua/motcua/agent/i18n"
)

// Event is one change the screens may show. Each concrete type below is an Event.
type Event interface{ event() }

// Uplink is the delivery of queued applications to the portal.
type Uplink struct {
	Online       bool      // the portal answered the last contact
	LastContact  time.Time // zero: never
	Waiting      int       // applications queued or sending
	WaitingBytes int64
	Sending      *Sending  // nil when nothing is in flight
	Problem      i18n.Text // zero when none
}

// Sending is the application being delivered.
type Sending struct {
	ID          int64
	Sent, Total int64
}

// DeviceKind names a kind of device.
type DeviceKind string

// The device kinds.
const (
	CardReader DeviceKind = "card_reader"
	Printer    DeviceKind = "printer"
	Scanner    DeviceKind = "scanner"
)

// Device is one device's state.
type Device struct {
	Kind      DeviceKind
	Name      string // port or SANE name
	Connected bool
	Problem   i18n.Text // last error in plain words with what to do; zero when none
	PaperLow  bool      // printer: paper near end
}

// ScanProgress is a scan in progress.
type ScanProgress struct {
	Page    int // pages scanned so far in this document
	Done    bool
	Problem i18n.Text // a jam etc.; the pages so far are kept
}

func (Uplink) event()       {}
func (Device) event()       {}
func (ScanProgress) event() {}

// Snapshot is the latest of each kind of event.
type Snapshot struct {
	Uplink  Uplink
	Devices []Device
	Scan    *ScanProgress
}

// Hub fans events out to subscribers and remembers the latest of each kind.
type Hub struct {
	mu   sync.Mutex
	snap Snapshot
	subs map[chan Event]bool
}

// NewHub returns a Hub with no subscribers.
func NewHub() *Hub { return &Hub{subs: map[chan Event]bool{}} }

// Publish records e and sends it to every subscriber; it never blocks: a
// subscriber whose buffer is full loses its oldest event.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e := e.(type) {
	case Uplink:
		h.snap.Uplink = e
	case Device:
		replaced := false
		for i, d := range h.snap.Devices {
			if d.Kind == e.Kind {
				h.snap.Devices[i], replaced = e, true
			}
		}
		if !replaced {
			h.snap.Devices = append(h.snap.Devices, e)
		}
	case ScanProgress:
		h.snap.Scan = &e
	}
	for ch := range h.subs {
		send(ch, e)
	}
}

func send(ch chan Event, e Event) {
	for {
		select {
		case ch <- e:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Subscribe returns a channel that first receives the current snapshot's
// events, then every new one; call the func to stop.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Event, 64)
	send(ch, h.snap.Uplink)
	for _, d := range h.snap.Devices {
		send(ch, d)
	}
	if h.snap.Scan != nil {
		send(ch, *h.snap.Scan)
	}
	h.subs[ch] = true
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
	}
}

// Snapshot returns the latest of each kind of event.
func (h *Hub) Snapshot() Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.snap
	s.Devices = append([]Device(nil), h.snap.Devices...)
	return s
}
