package status

import (
	"cmp"
	"slices"
	"sync"
)

// Hub fans events out to subscribers and remembers the latest of each kind:
// the Uplink, each Device (by Kind and Name) and the ScanProgress. It is
// safe for concurrent use. The zero Hub is not usable: call NewHub. A nil
// *Hub drops what is published to it.
type Hub struct {
	mu         sync.Mutex
	uplink     Uplink
	haveUplink bool
	devices    map[deviceKey]Device
	scan       *ScanProgress
	subs       map[*subscriber]struct{}
}

// NewHub returns a Hub with no state and no subscribers.
func NewHub() *Hub {
	return &Hub{
		devices: make(map[deviceKey]Device),
		subs:    make(map[*subscriber]struct{}),
	}
}

type deviceKey struct {
	kind DeviceKind
	name string
}

// slot is what a subscriber keeps one pending event per: the uplink, one
// device, or the scan.
type slot struct {
	what   int // slotUplink, slotDevice or slotScan
	device deviceKey
}

const (
	slotUplink = iota
	slotDevice
	slotScan
)

// Publish records e as the latest of its kind and passes it on to every
// subscriber. It never blocks on a subscriber: one that has not taken the
// previous event of the same kind yet gets e in its place. Publishing on a
// nil Hub does nothing, and so does a nil pointer event.
func (h *Hub) Publish(e Event) {
	if h == nil {
		return
	}
	e, s, ok := normalize(e)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e := e.(type) {
	case Uplink:
		h.uplink, h.haveUplink = e, true
	case Device:
		h.devices[s.device] = e
	case ScanProgress:
		h.scan = &e
	}
	for sub := range h.subs {
		sub.offer(s, e)
	}
}

// normalize turns e into a value the Hub can keep: a pointer event is
// dereferenced and an Uplink's Sending is copied, so a publisher that
// changes its own values later does not change what subscribers see.
func normalize(e Event) (Event, slot, bool) {
	switch v := e.(type) {
	case *Uplink:
		if v == nil {
			return nil, slot{}, false
		}
		return normalize(*v)
	case *Device:
		if v == nil {
			return nil, slot{}, false
		}
		return normalize(*v)
	case *ScanProgress:
		if v == nil {
			return nil, slot{}, false
		}
		return normalize(*v)
	case Uplink:
		if v.Sending != nil {
			s := *v.Sending
			v.Sending = &s
		}
		return v, slot{what: slotUplink}, true
	case Device:
		return v, slot{what: slotDevice, device: deviceKey{v.Kind, v.Name}}, true
	case ScanProgress:
		return v, slot{what: slotScan}, true
	}
	return nil, slot{}, false
}

// Snapshot returns the latest state published. Its values are copies: the
// caller may keep and change them.
func (h *Hub) Snapshot() Snapshot {
	if h == nil {
		return Snapshot{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snapshotLocked()
}

func (h *Hub) snapshotLocked() Snapshot {
	s := Snapshot{Uplink: h.uplink}
	if s.Uplink.Sending != nil {
		c := *s.Uplink.Sending
		s.Uplink.Sending = &c
	}
	for _, d := range h.devices {
		s.Devices = append(s.Devices, d)
	}
	slices.SortFunc(s.Devices, func(a, b Device) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	if h.scan != nil {
		c := *h.scan
		s.Scan = &c
	}
	return s
}

// Subscribe returns a channel of events and a func that ends the
// subscription. The channel first receives the current state (the Uplink if
// one was published, each Device, the scan's progress), then every later
// event, except that while the subscriber is slow to receive, a newer event
// of a kind replaces the one it has not taken yet: it may miss
// intermediate events but always gets the latest of each kind. Calling the
// func closes the channel; it may be called more than once. On a nil Hub
// the channel is closed at once.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	out := make(chan Event)
	if h == nil {
		close(out)
		return out, func() {}
	}
	sub := &subscriber{
		pending: make(map[slot]Event),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
		out:     out,
	}
	h.mu.Lock()
	snap := h.snapshotLocked()
	for _, e := range snap.events(h.haveUplink) {
		_, s, _ := normalize(e)
		sub.offer(s, e)
	}
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	go sub.forward()
	var once sync.Once
	return out, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, sub)
			h.mu.Unlock()
			close(sub.done)
			<-sub.exited
		})
	}
}

// subscriber holds one pending event per slot, in the order the slots
// were first filled, and a goroutine that hands them to out.
type subscriber struct {
	mu      sync.Mutex
	order   []slot
	pending map[slot]Event

	wake   chan struct{} // capacity 1: something is pending
	done   chan struct{} // closed by the cancel func
	exited chan struct{} // closed when forward returns
	out    chan Event
}

// offer makes e the pending event of its slot, replacing one not yet
// taken. It never blocks.
func (s *subscriber) offer(k slot, e Event) {
	s.mu.Lock()
	if _, ok := s.pending[k]; !ok {
		s.order = append(s.order, k)
	}
	s.pending[k] = e
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest pending event.
func (s *subscriber) next() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		return nil, false
	}
	k := s.order[0]
	s.order = s.order[1:]
	e := s.pending[k]
	delete(s.pending, k)
	return e, true
}

func (s *subscriber) forward() {
	defer close(s.exited)
	defer close(s.out)
	for {
		e, ok := s.next()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.out <- e:
		case <-s.done:
			return
		}
	}
}
