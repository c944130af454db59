package kiosk

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/store"
)

// Submissions feed the early warning: the same ID numbers a third time
// within the hour raise an alert per number, a fourth submission from the
// kiosk in ten minutes raises a flood alert, and a retried submission
// (the same idempotency key) counts for nothing. Service.Alerts shows them.
func TestSubmissionsRaiseEarlyWarningAlerts(t *testing.T) {
	ctx := context.Background()
	s, st := stored(t, Config{Actor: "kiosk-7"})
	key, err := alert.LoadOrCreateKey(filepath.Join(t.TempDir(), alert.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := alert.New(st, key, alert.Options{Rules: alert.Rules{
		alert.SameID: {Count: 3, Window: time.Hour}, alert.KioskFlood: {Count: 4, Window: 10 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Alerts = m
	p, _ := s.Catalog().Lookup("birth-registration")
	form := p.Example()
	ids := citizenIDs(p, form)
	if len(ids) == 0 {
		t.Fatal("the birth registration example holds no citizen ID")
	}
	submit := func(key string) {
		t.Helper()
		if _, err := s.Submit(ctx, Capture{Procedure: p, Form: form, IdempotencyKey: key,
			Attachments: []store.NewAttachment{{EvidenceKey: "birth_certificate", Name: "x.pdf", MediaType: "application/pdf", Content: []byte("%PDF")}}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() map[alert.Kind]int {
		as, err := s.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := map[alert.Kind]int{}
		for _, a := range as {
			n[a.Kind]++
		}
		return n
	}
	submit("a")
	submit("b")
	submit("b") // a retry: stored once, counted once
	if n := count(); len(n) != 0 {
		t.Fatalf("alerts after two submissions: %v", n)
	}
	submit("c")
	if n := count(); n[alert.SameID] != len(ids) || n[alert.KioskFlood] != 0 {
		t.Fatalf("alerts after three submissions with the same %d ID numbers: %v; want one per number", len(ids), n)
	}
	submit("d")
	if n := count(); n[alert.KioskFlood] != 1 || n[alert.SameID] != len(ids) {
		t.Fatalf("alerts after four submissions: %v; want one flood alert more", n)
	}
	as, _ := s.Alerts(ctx)
	if as[0].Kind != alert.KioskFlood || as[0].Subject != "kiosk-7" || as[0].Count != 4 {
		t.Errorf("flood alert %+v", as[0])
	}
}

// A service without a monitor has no alerts and submits as before.
func TestNoMonitorNoAlerts(t *testing.T) {
	s, _ := stored(t, Config{})
	if as, err := s.Alerts(context.Background()); as != nil || err != nil {
		t.Fatalf("Alerts = %v, %v", as, err)
	}
}
