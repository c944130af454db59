package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
)

// clock is an injected clock that advances one second per reading.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}
	s, err := Open(context.Background(), path, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newApp(key string, attachments ...NewAttachment) NewApplication {
	return NewApplication{
		IdempotencyKey: key,
		ProcedureID:    "birth-registration",
		ProcedureCode:  "1.001193",
		CatalogVersion: "2026.11.1",
		Form:           json.RawMessage(`{"child_full_name":"Nguyễn Văn An"}`),
		Attachments:    attachments,
		Actor:          "test",
	}
}

func TestOpenPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "sub", FileName))
	ctx := context.Background()
	// Every pooled connection carries the same settings: hold three at once.
	var conns []*sql.Conn
	for i := 0; i < 3; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for _, tt := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"user_version", fmt.Sprint(SchemaVersion())},
	} {
		for i, c := range conns {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, tt.pragma, got, tt.want)
			}
		}
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	a, err := s.Create(context.Background(), newApp("k1"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := openTest(t, path)
	got, err := s2.Get(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IdempotencyKey != "k1" || got.State != application.Queued {
		t.Fatalf("after reopen: %+v", got)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(context.Background(), path, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestCreateQueuedWritesAuditAndOutbox(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	page := bytes.Repeat([]byte("trang 1 "), 1000)
	a, err := s.Create(ctx, newApp("k1",
		NewAttachment{EvidenceKey: "birth_certificate", Name: "giay-chung-sinh.pdf", MediaType: "application/pdf", Content: page},
	), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != application.Queued || a.ID == 0 {
		t.Fatalf("created %+v", a)
	}
	if string(a.Form) != `{"child_full_name":"Nguyễn Văn An"}` {
		t.Errorf("form = %s", a.Form)
	}
	sum := sha256.Sum256(page)
	if len(a.Attachments) != 1 || a.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) ||
		a.Attachments[0].Size != int64(len(page)) || a.Attachments[0].Name != "giay-chung-sinh.pdf" {
		t.Fatalf("attachments = %+v", a.Attachments)
	}
	content, err := s.AttachmentContent(ctx, a.Attachments[0].ID)
	if err != nil || !bytes.Equal(content, page) {
		t.Fatalf("content differs (%v)", err)
	}
	evs, err := s.Events(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range evs {
		steps = append(steps, e.Kind+":"+e.From+">"+e.To)
	}
	want := []string{"created:>draft", "transition:draft>ready", "transition:ready>queued"}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("audit = %v, want %v", steps, want)
	}
	pending, err := s.Pending(ctx, string(application.Queued), 10)
	if err != nil || len(pending) != 1 || pending[0].ApplicationID != a.ID {
		t.Fatalf("pending queued = %+v, %v", pending, err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n != 3 {
		t.Fatalf("VerifyAudit = %d, %v", n, err)
	}
}

func TestDuplicateKeyStoresNothing(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	if _, err := s.Create(ctx, newApp("same"), application.Queued); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, newApp("same", NewAttachment{EvidenceKey: "x", Name: "x", MediaType: "text/plain", Content: []byte("x")}), application.Queued)
	if !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("second Create = %v, want ErrDuplicateKey", err)
	}
	list, _ := s.List(ctx, ListOptions{})
	if len(list) != 1 {
		t.Fatalf("%d applications stored, want 1", len(list))
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM personal_data`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d personal_data rows, want 1 (the failed create left data behind)", n)
	}
	if c, err := s.VerifyAudit(ctx); err != nil || c != 3 {
		t.Fatalf("VerifyAudit = %d, %v", c, err)
	}
}

func TestTransitions(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, err := s.Create(ctx, newApp("k"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		to      application.State
		change  Change
		wantErr error
	}{
		{application.Done, Change{Actor: "test"}, application.ErrIllegalTransition},
		{application.Sending, Change{Actor: "uplink"}, nil},
		{application.Queued, Change{Actor: "uplink", LastError: "connection reset"}, nil},
		{application.Sending, Change{Actor: "uplink"}, nil},
		{application.Received, Change{Actor: "uplink", FileCode: "000.00.01.H29-261122-0001"}, nil},
		{application.Draft, Change{}, application.ErrIllegalTransition},
		{application.InReview, Change{Actor: "portal"}, nil},
		{application.Done, Change{Actor: "portal"}, nil},
		{application.Rejected, Change{Actor: "portal"}, application.ErrIllegalTransition},
	}
	for i, st := range steps {
		err := s.Transition(ctx, a.ID, st.to, st.change)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("step %d to %s: %v, want %v", i, st.to, err, st.wantErr)
		}
	}
	got, _ := s.Get(ctx, a.ID)
	if got.State != application.Done || got.FileCode != "000.00.01.H29-261122-0001" {
		t.Fatalf("final %+v", got)
	}
	if err := s.Transition(ctx, 999, application.Ready, Change{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing application: %v", err)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAuditIsAppendOnlyAndTamperEvident(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := s.Create(ctx, newApp(fmt.Sprint("k", i)), application.Queued); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec(`UPDATE audit_events SET to_state = 'done' WHERE seq = 5`); err == nil {
		t.Fatal("UPDATE of an audit event was allowed")
	}
	if _, err := s.db.Exec(`DELETE FROM audit_events WHERE seq = 5`); err == nil {
		t.Fatal("DELETE of an audit event was allowed")
	}
	// Someone with the file drops the guard and edits an event.
	if _, err := s.db.Exec(`DROP TRIGGER audit_events_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE audit_events SET actor = 'portal' WHERE seq = 5`); err != nil {
		t.Fatal(err)
	}
	n, err := s.VerifyAudit(ctx)
	if !errors.Is(err, audit.ErrBroken) || n != 4 {
		t.Fatalf("VerifyAudit = %d, %v; want 4 verified then ErrBroken", n, err)
	}
}

func TestList(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	att := NewAttachment{EvidenceKey: "e", Name: "a.pdf", MediaType: "application/pdf", Content: make([]byte, 100)}
	for i := 0; i < 4; i++ {
		st := application.Queued
		if i == 3 {
			st = application.Draft
		}
		if _, err := s.Create(ctx, newApp(fmt.Sprint("k", i), att, att), st); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.List(ctx, ListOptions{})
	if err != nil || len(all) != 4 {
		t.Fatalf("List = %d, %v", len(all), err)
	}
	if all[0].AttachmentCount != 2 || all[0].PayloadBytes != 200 || all[0].Form != nil {
		t.Errorf("summary = %+v", all[0])
	}
	drafts, _ := s.List(ctx, ListOptions{States: []application.State{application.Draft}})
	if len(drafts) != 1 || drafts[0].IdempotencyKey != "k3" {
		t.Errorf("drafts = %+v", drafts)
	}
	two, _ := s.List(ctx, ListOptions{Limit: 2})
	if len(two) != 2 {
		t.Errorf("limit 2 gave %d", len(two))
	}
}

func TestSettleAndAttempted(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, _ := s.Create(ctx, newApp("k1"), application.Queued)
	b, _ := s.Create(ctx, newApp("k2"), application.Queued)
	s.Attempted(ctx, a.ID, "queued", "reset by peer")
	s.Attempted(ctx, a.ID, "queued", "timeout")
	items, _ := s.Pending(ctx, "queued", 10)
	if len(items) != 2 || items[0].Attempts != 2 || items[0].LastError != "timeout" || items[1].Attempts != 0 {
		t.Fatalf("pending %+v", items)
	}
	s.Settle(ctx, a.ID, "queued")
	items, _ = s.Pending(ctx, "queued", 10)
	if len(items) != 1 || items[0].ApplicationID != b.ID {
		t.Fatalf("after settling a: %+v", items)
	}
}
