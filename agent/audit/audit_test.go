package audit

import (
	"errors"
	"testing"
	"time"
)

func chain(n int) []*Event {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	prev := Genesis
	var evs []*Event
	for i := 1; i <= n; i++ {
		e := &Event{Seq: int64(i), At: at.Add(time.Duration(i) * time.Second), ApplicationID: int64(i),
			Kind: KindTransition, From: "ready", To: "queued", Actor: "cli"}
		e.Chain(prev)
		prev = e.Hash
		evs = append(evs, e)
	}
	return evs
}

func verify(evs []*Event) error {
	v := NewVerifier()
	for _, e := range evs {
		if err := v.Add(e); err != nil {
			return err
		}
	}
	return nil
}

func TestVerifyIntact(t *testing.T) {
	if err := verify(chain(5)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func([]*Event) []*Event
	}{
		{"edited state", func(e []*Event) []*Event { e[2].To = "done"; return e }},
		{"edited actor", func(e []*Event) []*Event { e[1].Actor = "portal"; return e }},
		{"edited time", func(e []*Event) []*Event { e[3].At = e[3].At.Add(time.Nanosecond); return e }},
		{"edited application", func(e []*Event) []*Event { e[0].ApplicationID = 99; return e }},
		{"removed middle", func(e []*Event) []*Event { return append(e[:2], e[3:]...) }},
		{"removed first", func(e []*Event) []*Event { return e[1:] }},
		{"swapped", func(e []*Event) []*Event { e[1], e[2] = e[2], e[1]; return e }},
		{"rehashed edit", func(e []*Event) []*Event {
			// Rehashing an edited event still breaks the link to the next one.
			e[1].Detail = "x"
			e[1].Hash = e[1].Sum(e[1].PrevHash)
			return e
		}},
		// Moving bytes between fields must change the hash.
		{"field boundary", func(e []*Event) []*Event { e[2].From, e[2].To = "readyq", "ueued"; return e }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verify(tt.tamper(chain(5))); !errors.Is(err, ErrBroken) {
				t.Fatalf("verify = %v, want ErrBroken", err)
			}
		})
	}
}

func TestSumIsStableAcrossTimeZones(t *testing.T) {
	e := chain(1)[0]
	local := *e
	local.At = e.At.In(time.FixedZone("ICT", 7*3600))
	if string(local.Sum(Genesis)) != string(e.Hash) {
		t.Fatal("the same instant in another zone hashes differently")
	}
}
