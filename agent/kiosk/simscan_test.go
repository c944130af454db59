package kiosk_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/sim"
)

// A feeder that jams after two pages, on the real scanimage and SANE's test
// backend: the session keeps the two pages for the citizen to keep, the
// screens hear each page and the jam, and the kept pages are stored with
// the application.
func TestSimulatedFeederJamKeepsThePagesScanned(t *testing.T) {
	if _, err := exec.LookPath("scanimage"); err != nil {
		t.Fatalf("scanimage is not installed (packaging/install-deps.sh installs sane-utils): %v", err)
	}
	ctx := context.Background()
	simScanner, err := sim.NewScanner(filepath.Join(t.TempDir(), "sane"))
	if err != nil {
		t.Fatal(err)
	}
	if err := simScanner.SetJamAfter(2); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := procedure.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	hub := status.NewHub()
	svc := kiosk.New(kiosk.Config{Store: st, Catalog: cat, Status: hub,
		Scanner: scanner.New(simScanner.Config(scanner.Config{Source: scanner.SourceADF, Resolution: 100})),
		Now:     func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) }})
	ss := svc.Start()
	if err := ss.Choose("permanent-residence"); err != nil {
		t.Fatal(err)
	}
	doc, err := ss.Scan(ctx, "lawful_residence_proof")
	var ie *i18n.Error
	if !errors.As(err, &ie) || ie.Code != "scanner_jammed" {
		t.Fatalf("Scan = %v, want the jam", err)
	}
	if doc.Pages != 2 || len(doc.Content) < 100 || string(doc.Content[:5]) != "%PDF-" {
		t.Fatalf("doc: %d pages, %d bytes; want the 2 pages before the jam as a PDF", doc.Pages, len(doc.Content))
	}
	jam := hub.Snapshot().Scan
	if jam == nil {
		t.Fatal("no scan progress published")
	}
	if jam.Page != 2 || jam.Problem.VI == "" {
		t.Errorf("final progress %+v, want the jam after 2 pages", jam)
	}
	if err := ss.Attach("lawful_residence_proof", doc); err != nil {
		t.Fatal(err)
	}
	p, _ := cat.Lookup("permanent-residence")
	for _, f := range p.Fields() {
		if f.Type == procedure.TypePerson {
			continue
		}
		var v string
		if err := json.Unmarshal(f.Example, &v); err == nil && f.Key != "lawful_residence_record" {
			if err := ss.Set(f.Key, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ss.Set("applicant", procedure.PersonValue{FullName: "Nguyễn Văn An", DateOfBirth: "1995-08-15",
		CitizenID: "001095012345", Sex: "male"}); err != nil {
		t.Fatal(err)
	}
	sub, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.App.Attachments) != 1 || sub.App.Attachments[0].Size != int64(len(doc.Content)) {
		t.Errorf("stored attachments %+v, want the 2 kept pages", sub.App.Attachments)
	}
}
