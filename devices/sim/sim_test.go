package sim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/devices/cardreader"
)

// The simulator's cards reach a real card reader over a pseudo-terminal,
// and every sample card is a valid card.
func TestCardReaderSimulator(t *testing.T) {
	sim, err := NewCardReader(filepath.Join(t.TempDir(), "dev", "card-reader"), SamplePayloads)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	r := cardreader.New(cardreader.Config{Port: sim.Path()})
	events := make(chan cardreader.Event, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, events)
	for deadline := time.Now().Add(5 * time.Second); !r.Status().Connected; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reader did not open the simulator")
		}
	}
	for i := range SamplePayloads {
		sent, err := sim.Next()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			want, _ := identity.ParseCard(sent)
			if ev.Err != nil || ev.Card != want {
				t.Fatalf("card %d: %+v, %v", i, ev.Card, ev.Err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("card %d never arrived", i)
		}
	}
}

func TestReadPayloads(t *testing.T) {
	got, err := ReadPayloads(strings.NewReader("a|b\r\n\n  \nc|d\n"))
	if err != nil || len(got) != 2 || string(got[0]) != "a|b" || string(got[1]) != "c|d" {
		t.Fatalf("ReadPayloads = %q, %v", got, err)
	}
}
