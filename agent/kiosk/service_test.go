package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
)

// fakeScanner returns the pages it is given, then stops with err (a jam)
// when err is set, reporting each page.
type fakeScanner struct {
	pages int
	err   error
	calls int
}

func (f *fakeScanner) ScanDocument(ctx context.Context) (device.Document, error) {
	return f.ScanDocumentProgress(ctx, func(int) {})
}

func (f *fakeScanner) ScanDocumentProgress(ctx context.Context, page func(n int)) (device.Document, error) {
	f.calls++
	for i := 1; i <= f.pages; i++ {
		page(i)
	}
	doc := device.Document{Pages: f.pages}
	if f.pages > 0 {
		doc.PDF = []byte("%PDF-1.4 scanned pages")
	}
	if f.err != nil {
		if f.pages > 0 {
			return doc, &device.ScanStoppedError{Pages: f.pages, Err: f.err}
		}
		return device.Document{}, f.err
	}
	return doc, nil
}

type fakePrinter struct{ printed []device.Receipt }

func (p *fakePrinter) Print(ctx context.Context, r device.Receipt) error {
	p.printed = append(p.printed, r)
	return nil
}

var errJam = &i18n.Error{Code: "scanner_jammed", Msg: i18n.T("Kẹt giấy trong máy quét", "paper jam in the scanner")}

// stored is a service on a real SQLite store in a temporary directory.
func stored(t *testing.T, cfg Config) (*Service, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{Now: func() time.Time { return today }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store, cfg.Catalog = st, catalog(t)
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return today }
	}
	return New(cfg), st
}

// birth fills a whole birth registration as a citizen would: the card,
// the rest typed, the birth certificate scanned.
func birth(t *testing.T, ss *Session) {
	t.Helper()
	ctx := context.Background()
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(card(t, cardAn), "father"); err != nil {
		t.Fatal(err)
	}
	typed := []struct{ key, v string }{
		{"requester_relationship", "father"}, {"requester_phone", "0912 345 678"},
		{"child_full_name", "Nguyễn Minh Khang"}, {"child_date_of_birth", "2026-10-05"}, {"child_sex", "male"},
		{"child_ethnicity", "Kinh"}, {"child_nationality", "Việt Nam"},
		{"child_place_of_birth", "Bệnh viện Phụ sản Hà Nội"}, {"child_hometown", "Xã Yên Thường, Hà Nội"},
		{"mother_full_name", "Trần Thị Bình"}, {"mother_birth_year", "2004"}, {"mother_ethnicity", "Kinh"},
		{"mother_nationality", "Việt Nam"}, {"mother_residence", "Số 12 ngõ 34 Láng Hạ, Hà Nội"},
		{"father_ethnicity", "Kinh"}, {"father_nationality", "Việt Nam"},
	}
	for _, f := range typed {
		if err := ss.Set(f.key, f.v); err != nil {
			t.Fatal(err)
		}
	}
	for _, sec := range ss.Steps() {
		if errs := ss.ValidateStep(sec.Key); errs != nil {
			t.Fatalf("step %s: %v", sec.Key, errs)
		}
	}
	if _, err := ss.Scan(ctx, "birth_certificate"); err != nil {
		t.Fatal(err)
	}
}

func TestBirthRegistrationThroughTheSessionEndsQueued(t *testing.T) {
	ctx := context.Background()
	scanner := &fakeScanner{pages: 2}
	hub := status.NewHub()
	s, st := stored(t, Config{Scanner: scanner, Status: hub, Actor: "kiosk"})
	ss := s.Start()
	birth(t, ss)
	if got := hub.Snapshot().Scan; got == nil || !got.Done || got.Page != 2 {
		t.Errorf("scan progress %+v, want done after 2 pages", got)
	}
	if r := ss.Review(); len(r.Problems) != 0 {
		t.Fatalf("review problems: %v", r.Problems)
	}
	sub, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Existing || sub.App.State != application.Queued {
		t.Fatalf("submitted %+v existing %v, want a new queued application", sub.App, sub.Existing)
	}
	a, err := st.Get(ctx, sub.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	var form map[string]json.RawMessage
	if err := json.Unmarshal(a.Form, &form); err != nil {
		t.Fatal(err)
	}
	var requester procedure.PersonValue
	if err := json.Unmarshal(form["requester"], &requester); err != nil {
		t.Fatal(err)
	}
	want := procedure.PersonValue{FullName: "Nguyễn Văn An", DateOfBirth: "1995-08-15", CitizenID: "001095012345", Sex: "male"}
	if requester != want {
		t.Errorf("requester %+v, want the card's %+v", requester, want)
	}
	if string(form["father_citizen_id"]) != `"001095012345"` || string(form["requester_phone"]) != `"0912345678"` {
		t.Errorf("father_citizen_id %s, requester_phone %s", form["father_citizen_id"], form["requester_phone"])
	}
	if len(a.Attachments) != 1 || a.Attachments[0].EvidenceKey != "birth_certificate" || a.Attachments[0].MediaType != "application/pdf" {
		t.Fatalf("attachments %+v", a.Attachments)
	}
	pdf, err := st.AttachmentContent(ctx, a.Attachments[0].ID)
	if err != nil || string(pdf) != "%PDF-1.4 scanned pages" {
		t.Errorf("attachment content %q, %v", pdf, err)
	}
	if a.IdempotencyKey != ss.IdempotencyKey() || a.CatalogVersion != s.Catalog().Version {
		t.Errorf("key %s catalog %s", a.IdempotencyKey, a.CatalogVersion)
	}
	evs, err := st.Events(ctx, a.ID)
	if err != nil || len(evs) == 0 || evs[0].Actor != "kiosk" {
		t.Errorf("audit events %+v, %v: want the kiosk as actor", evs, err)
	}
	if sub.Receipt.Applicant != "Nguyễn Văn An" || sub.Receipt.LocalID != a.ID {
		t.Errorf("receipt %+v", sub.Receipt)
	}

	// A second tap stores nothing new.
	again, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.App.ID != a.ID {
		t.Errorf("second Submit: %+v existing %v, want application %d again", again.App, again.Existing, a.ID)
	}
	if list, _ := st.List(ctx, store.ListOptions{}); len(list) != 1 {
		t.Errorf("%d applications stored after two taps, want 1", len(list))
	}

	// Changing the stored application is refused; choosing again starts a
	// new one.
	if err := ss.Set("requester_phone", "0987654321"); err != nil {
		t.Fatal(err)
	}
	var ie *i18n.Error
	if _, err := ss.Submit(ctx); !errors.Is(err, ErrKeyReused) || !errors.As(err, &ie) {
		t.Errorf("Submit of a changed form after Submit = %v, want ErrKeyReused with a citizen message", err)
	}
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	if ss.IdempotencyKey() == a.IdempotencyKey {
		t.Error("Choose after Submit kept the stored application's key")
	}
	next, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.Existing || next.App.ID == a.ID {
		t.Errorf("the next application %+v existing %v, want a new one", next.App.ID, next.Existing)
	}
}

// A key already used stores nothing for another form: it is an error, not
// the stored application.
func TestSubmitSameKeyDifferentFormIsRefused(t *testing.T) {
	ctx := context.Background()
	s, st := stored(t, Config{Scanner: &fakeScanner{pages: 1}})
	ss := s.Start()
	birth(t, ss)
	sub, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Catalog().Lookup("birth-registration")
	form := p.Example()
	_, err = s.Submit(ctx, Capture{Procedure: p, Form: form, IdempotencyKey: sub.App.IdempotencyKey,
		Attachments: []store.NewAttachment{{EvidenceKey: "birth_certificate", Name: "x.pdf", MediaType: "application/pdf", Content: []byte("%PDF")}}})
	if !errors.Is(err, ErrKeyReused) {
		t.Errorf("Submit with a used key and another form = %v, want ErrKeyReused", err)
	}
	if list, _ := st.List(ctx, store.ListOptions{}); len(list) != 1 {
		t.Errorf("%d applications stored, want 1", len(list))
	}
}

func TestSubmitRefusesAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	s, st := stored(t, Config{})
	ss := s.Start()
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
		t.Fatal(err)
	}
	_, err := ss.Submit(ctx)
	var problems procedure.Errors
	if !errors.As(err, &problems) || len(problems) == 0 {
		t.Fatalf("Submit of a half form = %v, want procedure.Errors", err)
	}
	if list, _ := st.List(ctx, store.ListOptions{}); len(list) != 0 {
		t.Errorf("%d applications stored after a refusal", len(list))
	}
}

func TestScanJamKeepsThePagesSoFar(t *testing.T) {
	ctx := context.Background()
	scanner := &fakeScanner{pages: 3, err: errJam}
	hub := status.NewHub()
	s, _ := stored(t, Config{Scanner: scanner, Status: hub})
	ss := chosen(t, s, "birth-registration")
	d, err := ss.Scan(ctx, "birth_certificate")
	var ie *i18n.Error
	if !errors.As(err, &ie) || ie.Code != "scanner_jammed" {
		t.Fatalf("Scan = %v, want the jam", err)
	}
	if d.Pages != 3 || len(d.Content) == 0 {
		t.Errorf("doc %+v: want the 3 pages scanned before the jam", d)
	}
	if len(ss.Evidence()[0].Docs) != 0 {
		t.Error("a jammed scan was attached without the citizen keeping it")
	}
	if p := hub.Snapshot().Scan; p == nil || p.Problem.VI == "" || p.Page != 3 {
		t.Errorf("scan progress %+v, want the jam after 3 pages", p)
	}
	if err := ss.Attach("birth_certificate", d); err != nil {
		t.Fatal(err)
	}
	scanner.pages = 0
	if d, err := ss.Scan(ctx, "birth_certificate"); !errors.Is(err, errJam) || d.Pages != 0 {
		t.Errorf("jam before any page: %+v, %v", d, err)
	}
	if docs := ss.Evidence()[0].Docs; len(docs) != 1 || docs[0].Pages != 3 {
		t.Errorf("docs %+v, want the kept pages only", docs)
	}
}

func TestScanWithoutScanner(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	if _, err := ss.Scan(context.Background(), "birth_certificate"); !errors.Is(err, ErrNoScanner) {
		t.Errorf("Scan = %v, want ErrNoScanner", err)
	}
}

func TestProceduresMostUsedFirst(t *testing.T) {
	ctx := context.Background()
	s, _ := stored(t, Config{})
	for _, n := range []struct {
		id    string
		count int
	}{{"criminal-record-certificate", 2}, {"temporary-residence", 1}} {
		p, _ := s.Catalog().Lookup(n.id)
		for range n.count {
			if _, err := s.Submit(ctx, Capture{Procedure: p, Form: p.Example()}); err != nil {
				t.Fatalf("%s: %v", n.id, err)
			}
		}
	}
	ps, err := s.Procedures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.ID)
	}
	want := []string{"criminal-record-certificate", "temporary-residence", "birth-registration", "permanent-residence"}
	if !slices.Equal(got[:4], want) || len(got) != len(s.Catalog().Procedures) {
		t.Errorf("Procedures = %v, want %v first, then the rest in catalog order", got, want)
	}
}

func TestLinkedPrefillsFromTheCard(t *testing.T) {
	ctx := context.Background()
	s, _ := stored(t, Config{Scanner: &fakeScanner{pages: 1}})
	ss := s.Start()
	birth(t, ss)
	if ss.Linked() != nil {
		t.Error("Linked before Submit")
	}
	if _, err := ss.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ss.Linked() {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"permanent-residence", "health-insurance-household-renewal"}) {
		t.Fatalf("Linked = %v", ids)
	}
	tests := []struct {
		id   string
		want map[string]any
	}{
		{"permanent-residence", map[string]any{
			"applicant":       procedure.PersonValue{FullName: "Nguyễn Văn An", DateOfBirth: "1995-08-15", CitizenID: "001095012345", Sex: "male"},
			"applicant_phone": "0912 345 678",
		}},
		{"health-insurance-household-renewal", map[string]any{
			"payer":           procedure.PersonValue{FullName: "Nguyễn Văn An", DateOfBirth: "1995-08-15", CitizenID: "001095012345", Sex: "male"},
			"payer_residence": card(t, cardAn).Address,
			"payer_phone":     "0912 345 678",
		}},
	}
	for _, tt := range tests {
		next, err := ss.StartLinked(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if next.IdempotencyKey() == ss.IdempotencyKey() || next.Card() == nil {
			t.Errorf("%s: key reused or card not carried", tt.id)
		}
		for k, want := range tt.want {
			if v, _ := next.Value(k); v != want {
				t.Errorf("%s: %s = %#v, want %#v", tt.id, k, v, want)
			}
		}
		if !next.FromCard(next.Procedure().Sections[0].Fields[0].Key) {
			t.Errorf("%s: the requester block is not marked as from the card", tt.id)
		}
	}
	if _, err := ss.StartLinked("marriage-registration"); !errors.Is(err, ErrNoProcedure) {
		t.Errorf("StartLinked(not linked) = %v, want ErrNoProcedure", err)
	}
}

// tracker is a portal that answers or not.
type tracker struct {
	err   error
	calls int
}

func (tr *tracker) PullStatus(context.Context) (int, error) { tr.calls++; return 0, tr.err }

func TestReceiptPrintTrack(t *testing.T) {
	ctx := context.Background()
	pr := &fakePrinter{}
	tr := &tracker{}
	trackURL := func(fileCode, key string) string {
		if fileCode != "" {
			return "https://portal.example.vn/track/" + fileCode
		}
		return "https://portal.example.vn/track/dev-1/" + key
	}
	s, st := stored(t, Config{Scanner: &fakeScanner{pages: 1}, Printer: pr, Tracker: tr, TrackURL: trackURL})
	ss := s.Start()
	birth(t, ss)
	sub, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := sub.App.ID
	if err := s.Print(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(pr.printed) != 1 || pr.printed[0].TrackURL != "https://portal.example.vn/track/dev-1/"+sub.App.IdempotencyKey ||
		pr.printed[0].Procedure != "Đăng ký khai sinh (1.001193)" {
		t.Fatalf("printed %+v", pr.printed)
	}
	// The portal files it.
	for _, to := range []application.State{application.Sending, application.Received} {
		if err := st.Transition(ctx, id, to, store.Change{Actor: "uplink", FileCode: "H01.22-261130-0001"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"H01.22-261130-0001",
		"h01.22-261130-0001",
		" 1 ",
		"https://portal.example.vn/track/H01.22-261130-0001",
		"https://portal.example.vn/track/dev-1/" + sub.App.IdempotencyKey,
		"https://portal.example.vn/track/dev-1/" + sub.App.IdempotencyKey + "?lang=vi",
	} {
		res, err := s.Track(ctx, q)
		if err != nil {
			t.Errorf("Track(%q): %v", q, err)
			continue
		}
		if res.App.ID != id || res.App.State != application.Received || !res.Fresh || !res.At.Equal(today) {
			t.Errorf("Track(%q) = %+v", q, res)
		}
	}
	tr.err = errors.New("portal unreachable")
	res, err := s.Track(ctx, "H01.22-261130-0001")
	if err != nil || res.Fresh || res.App.ID != id {
		t.Errorf("Track offline = %+v, %v: want the last known state, not fresh", res, err)
	}
	for _, q := range []string{"", "H99", "2", "https://portal.example.vn/track/dev-1/nokey"} {
		if _, err := s.Track(ctx, q); !errors.Is(err, ErrNotFound) {
			t.Errorf("Track(%q) = %v, want ErrNotFound", q, err)
		}
	}
	r, err := s.Receipt(ctx, id)
	if err != nil || r.FileCode != "H01.22-261130-0001" || r.TrackURL != "https://portal.example.vn/track/H01.22-261130-0001" {
		t.Errorf("receipt after filing %+v, %v", r, err)
	}
	if _, err := s.Receipt(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Errorf("Receipt(99) = %v, want ErrNotFound", err)
	}
	noPrinter, _ := stored(t, Config{})
	if err := noPrinter.Print(ctx, id); !errors.Is(err, ErrNoPrinter) {
		t.Errorf("Print without a printer = %v, want ErrNoPrinter", err)
	}
}

func TestRequeueQuarantined(t *testing.T) {
	ctx := context.Background()
	s, st := stored(t, Config{Actor: "counter"})
	p, _ := s.Catalog().Lookup("criminal-record-certificate")
	sub, err := s.Submit(ctx, Capture{Procedure: p, Form: p.Example()})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.App.ID
	if err := s.Requeue(ctx, id); !errors.Is(err, application.ErrIllegalTransition) {
		t.Errorf("Requeue of a queued application = %v, want ErrIllegalTransition", err)
	}
	if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, id); !errors.Is(err, application.ErrIllegalTransition) {
		t.Errorf("Requeue of a sending application = %v, want ErrIllegalTransition", err)
	}
	if err := st.Transition(ctx, id, application.Quarantined, store.Change{Actor: "uplink", LastError: "refused"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, id); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Get(ctx, id)
	if a.State != application.Queued || a.LastError != "" {
		t.Errorf("after Requeue: %s, last error %q", a.State, a.LastError)
	}
	evs, _ := st.Events(ctx, id)
	last := evs[len(evs)-1]
	if last.From != string(application.Quarantined) || last.To != string(application.Queued) || last.Actor != "counter" {
		t.Errorf("last audit event %+v", last)
	}
	if items, _ := st.Pending(ctx, string(application.Queued), 10); !slices.ContainsFunc(items, func(i store.OutboxItem) bool { return i.ApplicationID == id }) {
		t.Errorf("requeued application not in the outbox: %+v", items)
	}
	if err := s.Requeue(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Requeue(42) = %v, want ErrNotFound", err)
	}
	q, err := s.Queue(ctx, application.Queued)
	if err != nil || len(q) != 1 || q[0].ID != id {
		t.Errorf("Queue(queued) = %+v, %v", q, err)
	}
}

// blockingScanner scans one page once released, telling when it started.
type blockingScanner struct{ started, release chan struct{} }

func (b *blockingScanner) ScanDocument(ctx context.Context) (device.Document, error) {
	close(b.started)
	<-b.release
	return device.Document{PDF: []byte("%PDF-1.4 citizen A"), Pages: 1}, nil
}

// The screen scans off its goroutine: the session answers meanwhile, and a
// scan that ends after the citizen left (the idle wipe) attaches nothing to
// the next citizen's session.
func TestScanEndingAfterWipeAttachesNothing(t *testing.T) {
	sc := &blockingScanner{started: make(chan struct{}), release: make(chan struct{})}
	s, _ := stored(t, Config{Scanner: sc})
	ss := chosen(t, s, "birth-registration")
	type result struct {
		d   Doc
		err error
	}
	done := make(chan result)
	go func() {
		d, err := ss.Scan(context.Background(), "birth_certificate")
		done <- result{d, err}
	}()
	<-sc.started
	if n := len(ss.Evidence()[0].Docs); n != 0 {
		t.Errorf("%d documents while the scan runs", n)
	}
	ss.Wipe()
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	close(sc.release)
	res := <-done
	if !errors.Is(res.err, ErrWiped) {
		t.Errorf("Scan after Wipe = %v, want ErrWiped", res.err)
	}
	if n := len(ss.Evidence()[0].Docs); n != 0 {
		t.Errorf("the previous citizen's scan was attached to the next session (%d documents)", n)
	}
}
