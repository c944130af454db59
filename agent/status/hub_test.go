package status

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/agent/i18n"
)

// drain receives every event the subscriber has pending, once the bubble's
// goroutines are all blocked.
func drain(t *testing.T, ch <-chan Event) []Event {
	t.Helper()
	var got []Event
	for {
		synctest.Wait()
		select {
		case e, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, e)
		default:
			return got
		}
	}
}

func TestSubscribeFirstDeliversTheSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub()
		at := time.Now()
		h.Publish(Device{Kind: Scanner, Name: "test:0", Connected: true})
		h.Publish(Uplink{Online: true, LastContact: at, Waiting: 2, WaitingBytes: 300})
		h.Publish(Device{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: false,
			Problem: i18n.T("Chưa cắm đầu đọc thẻ", "card reader unplugged")})
		h.Publish(ScanProgress{Page: 3})

		ch, cancel := h.Subscribe()
		defer cancel()
		got := drain(t, ch)
		want := []Event{
			Uplink{Online: true, LastContact: at, Waiting: 2, WaitingBytes: 300},
			Device{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: false,
				Problem: i18n.T("Chưa cắm đầu đọc thẻ", "card reader unplugged")},
			Device{Kind: Scanner, Name: "test:0", Connected: true},
			ScanProgress{Page: 3},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("first events:\n got %#v\nwant %#v", got, want)
		}
	})
}

func TestSubscribeBeforeAnyEventDeliversNothingUntilPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub()
		ch, cancel := h.Subscribe()
		defer cancel()
		if got := drain(t, ch); len(got) != 0 {
			t.Fatalf("events before any publish: %v", got)
		}
		h.Publish(ScanProgress{Page: 1})
		if got := drain(t, ch); !reflect.DeepEqual(got, []Event{ScanProgress{Page: 1}}) {
			t.Fatalf("got %v, want the published progress", got)
		}
	})
}

// TestSlowSubscriberGetsTheLatestOfEachKind publishes many events to a
// subscriber that reads nothing: Publish must not block (synctest reports
// a deadlock if it does), and when the subscriber reads it must end with
// the latest of each kind, in the order the kinds first changed.
func TestSlowSubscriberGetsTheLatestOfEachKind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub()
		ch, cancel := h.Subscribe()
		defer cancel()
		for i := 1; i <= 1000; i++ {
			h.Publish(Uplink{Online: true, Waiting: i, Sending: &Sending{ID: 7, Sent: int64(i), Total: 1000}})
			if i%100 == 0 {
				h.Publish(ScanProgress{Page: i / 100})
				h.Publish(Device{Kind: Printer, Name: "/dev/ttyS0", Connected: true, PaperLow: i == 500})
			}
		}
		got := drain(t, ch)
		if len(got) > 8 {
			t.Errorf("a subscriber that read nothing got %d events; want at most a few (the older ones dropped)", len(got))
		}
		last := map[string]Event{}
		for _, e := range got {
			last[fmt.Sprintf("%T", e)] = e
		}
		want := map[string]Event{
			"status.Uplink":       Uplink{Online: true, Waiting: 1000, Sending: &Sending{ID: 7, Sent: 1000, Total: 1000}},
			"status.ScanProgress": ScanProgress{Page: 10},
			"status.Device":       Device{Kind: Printer, Name: "/dev/ttyS0", Connected: true},
		}
		if !reflect.DeepEqual(last, want) {
			t.Fatalf("latest of each kind:\n got %#v\nwant %#v", last, want)
		}
	})
}

func TestDevicesAreKeptApartByKindAndName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub()
		ch, cancel := h.Subscribe()
		defer cancel()
		// The subscriber takes nothing yet: two devices' events must both
		// survive, each as its own latest.
		h.Publish(Device{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: true})
		h.Publish(Device{Kind: Printer, Name: "/dev/ttyUSB0", Connected: true})
		h.Publish(Device{Kind: CardReader, Name: "/dev/ttyUSB1", Connected: true})
		h.Publish(Device{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: false})
		got := drain(t, ch)
		want := []Event{
			Device{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: false},
			Device{Kind: Printer, Name: "/dev/ttyUSB0", Connected: true},
			Device{Kind: CardReader, Name: "/dev/ttyUSB1", Connected: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v\nwant %#v", got, want)
		}
		snap := h.Snapshot()
		wantDevs := []Device{
			{Kind: CardReader, Name: "/dev/ttyUSB0", Connected: false},
			{Kind: CardReader, Name: "/dev/ttyUSB1", Connected: true},
			{Kind: Printer, Name: "/dev/ttyUSB0", Connected: true},
		}
		if !reflect.DeepEqual(snap.Devices, wantDevs) {
			t.Fatalf("snapshot devices %#v\nwant %#v", snap.Devices, wantDevs)
		}
	})
}

func TestCancelClosesTheChannelAndStopsDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub()
		h.Publish(ScanProgress{Page: 1})
		ch, cancel := h.Subscribe()
		cancel()
		cancel() // a second call is harmless
		// Whatever was pending is dropped and the channel is closed.
		for e := range ch {
			t.Fatalf("event after cancel: %v", e)
		}
		h.Publish(ScanProgress{Page: 2}) // must not block or panic
		// synctest.Test fails if the subscriber's goroutine outlived cancel.
	})
}

func TestPublishedValuesAreCopied(t *testing.T) {
	h := NewHub()
	s := &Sending{ID: 1, Sent: 10, Total: 100}
	h.Publish(Uplink{Sending: s})
	s.Sent = 99
	if got := h.Snapshot().Uplink.Sending.Sent; got != 10 {
		t.Fatalf("the publisher's later change reached the hub: Sent = %d, want 10", got)
	}
	snap := h.Snapshot()
	snap.Uplink.Sending.Sent = 50
	if got := h.Snapshot().Uplink.Sending.Sent; got != 10 {
		t.Fatalf("a snapshot's change reached the hub: Sent = %d, want 10", got)
	}
}

func TestPointerEventsAreDereferenced(t *testing.T) {
	h := NewHub()
	h.Publish(&ScanProgress{Page: 2, Done: true})
	h.Publish((*Device)(nil)) // ignored
	if got := h.Snapshot(); got.Scan == nil || *got.Scan != (ScanProgress{Page: 2, Done: true}) || len(got.Devices) != 0 {
		t.Fatalf("snapshot %#v", got)
	}
}

func TestNilHubDropsEvents(t *testing.T) {
	var h *Hub
	var p Publisher = h
	p.Publish(Uplink{Online: true})
	ch, cancel := h.Subscribe()
	defer cancel()
	if _, ok := <-ch; ok {
		t.Fatal("a nil hub's channel delivered an event")
	}
	if got := h.Snapshot(); !reflect.DeepEqual(got, Snapshot{}) {
		t.Fatalf("nil hub snapshot %#v", got)
	}
}

// TestConcurrentPublishersAndSubscribers is for the race detector: many
// publishers and subscribers at once, each subscriber ending with the
// latest Uplink.
func TestConcurrentPublishersAndSubscribers(t *testing.T) {
	h := NewHub()
	const publishers, subscribers, n = 4, 4, 500
	var subsDone sync.WaitGroup
	results := make([]Uplink, subscribers)
	ready := make(chan struct{}, subscribers)
	for i := range subscribers {
		ch, cancel := h.Subscribe()
		subsDone.Go(func() {
			defer cancel()
			ready <- struct{}{}
			for e := range ch {
				if u, ok := e.(Uplink); ok {
					results[i] = u
					if u.Waiting == -1 {
						return
					}
				}
			}
		})
	}
	for range subscribers {
		<-ready
	}
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for i := range n {
				h.Publish(Uplink{Waiting: i, Sending: &Sending{ID: int64(p)}})
				h.Publish(Device{Kind: Scanner, Name: fmt.Sprint(p), Connected: i%2 == 0})
				_ = h.Snapshot()
			}
		})
	}
	pubs.Wait()
	h.Publish(Uplink{Waiting: -1})
	subsDone.Wait()
	for i, u := range results {
		if u.Waiting != -1 {
			t.Errorf("subscriber %d ended on %#v, want the last Uplink", i, u)
		}
	}
}

func TestDeviceKindNames(t *testing.T) {
	for _, k := range []DeviceKind{CardReader, Printer, Scanner} {
		if k.Label().VI == "" || k.Label().EN == "" || k.String() == "" {
			t.Errorf("%d has no name", k)
		}
	}
}
