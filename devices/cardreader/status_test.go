package cardreader

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/status"
)

// nextDevice waits for the next Device event of a subscription.
func nextDevice(t *testing.T, ch <-chan status.Event) status.Device {
	t.Helper()
	for {
		select {
		case e := <-ch:
			if d, ok := e.(status.Device); ok {
				return d
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no device status")
		}
	}
}

// TestStatusFollowsThePlugAndTheCable: a reader on a pseudo-terminal
// publishes that it is missing (with what to do), connected when its port
// appears, lost when the cable is pulled and connected again when plugged
// back; failed reopen attempts in between publish nothing new.
func TestStatusFollowsThePlugAndTheCable(t *testing.T) {
	hub := status.NewHub()
	ch, cancel := hub.Subscribe()
	defer cancel()
	port := filepath.Join(t.TempDir(), "ttyACM0")
	r := New(Config{Port: port, MaxBackoff: 50 * time.Millisecond, Status: hub})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, make(chan Event, 4)); close(done) }()
	defer func() { stop(); <-done }()

	missing := status.Device{Kind: status.CardReader, Name: port, Problem: ProblemUnplugged}
	connected := status.Device{Kind: status.CardReader, Name: port, Connected: true}
	if d := nextDevice(t, ch); d != missing {
		t.Fatalf("before the reader is plugged: %+v, want %+v", d, missing)
	}
	s := &scanner{t: t, port: port}
	s.plug()
	t.Cleanup(func() { s.master.Close() })
	if d := nextDevice(t, ch); d != connected {
		t.Fatalf("plugged: %+v, want %+v", d, connected)
	}
	s.unplug()
	if d := nextDevice(t, ch); d != missing {
		t.Fatalf("cable pulled: %+v, want %+v", d, missing)
	}
	s.plug()
	if d := nextDevice(t, ch); d != connected {
		t.Fatalf("plugged back: %+v, want %+v", d, connected)
	}
	if ProblemUnplugged.VI == "" || ProblemUnplugged.EN == "" {
		t.Fatal("the problem is not bilingual")
	}
}
