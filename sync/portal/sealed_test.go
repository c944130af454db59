package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/piiscan"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// uploadBytes returns the bytes upload id holds, opened.
func (s *Server) uploadBytes(id string) ([]byte, error) {
	up, err := s.uploads.GetUpload(context.Background(), id)
	if err != nil {
		return nil, err
	}
	rd, err := up.GetReader(context.Background())
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// The citizen of exampleForm, and an attachment naming her father.
var (
	citizenValues = []string{"Nguyễn Văn An", "001095012345", "0912345678", "Trần Thị Bình", "001197004321",
		"Nguyễn Minh Khang", "GCS-01-2026-004512"}
	scanBytes = []byte("GIẤY CHỨNG SINH Nguyễn Minh Khang, mẹ Trần Thị Bình " + strings.Repeat("x", 3000))
	scanName  = "cccd-Nguyễn-Văn-An.jpg"
)

func scanDir(t *testing.T, dir string) {
	t.Helper()
	values := append([]string{string(scanBytes[:40]), scanName}, citizenValues...)
	hits, err := piiscan.Dir(dir, values...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Errorf("personal data in clear: %s", h)
	}
	if onPostgres() {
		scanPostgres(t, dir, values)
	}
}

// scanPostgres scans the files of the PostgreSQL database that holds the
// records of the portal in dir, and the server's WAL, once a checkpoint
// has written out what the server held in memory.
func scanPostgres(t *testing.T, dir string, values []string) {
	t.Helper()
	cfg := Config{DataDir: dir}
	setDatabase(&cfg)
	db, err := pgdb.Connect(t.Context(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var oid string
	if err := db.QueryRow(`SELECT oid::text FROM pg_database WHERE datname = current_database()`).Scan(&oid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{filepath.Join("base", oid), "pg_wal"} {
		hits, err := piiscan.Dir(filepath.Join(testServer.DataDir(), sub), values...)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			t.Errorf("personal data in clear in PostgreSQL's files: %s", h)
		}
	}
}

// createSealedUpload creates an upload of content carrying manifest m in
// its metadata, sending its first n bytes.
func (p *testPortal) createSealedUpload(m portalapi.Manifest, content []byte, n int) string {
	p.t.Helper()
	mj, _ := json.Marshal(m)
	req, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, bytes.NewReader(content[:n]))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(content)))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, m.IdempotencyKey+"-1",
		portalapi.MetaManifest, string(mj)))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		p.t.Fatalf("create upload: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func citizenManifest(key string) portalapi.Manifest {
	return portalapi.Manifest{IdempotencyKey: key, ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(),
		Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: scanName, MediaType: "image/jpeg",
			Size: int64(len(scanBytes)), SHA256: hexSum(scanBytes)}}}
}

// Nothing of the citizen is kept in clear by the portal: not while the
// upload is in progress (its manifest in the .info, the bytes received so
// far), not once it is filed (the records, their WAL, the upload).
func TestPortalKeepsNoCitizenDataInClear(t *testing.T) {
	p := newPortal(t)
	loc := p.createSealedUpload(citizenManifest("key-sealed-1"), scanBytes, 2000)
	if off := p.offset(loc); off != 2000 {
		t.Fatalf("offset %d after the first 2000 bytes", off)
	}
	scanDir(t, p.cfg.DataDir) // in flight
	p.scanUploads(t)
	if code := p.patch(loc, 2000, scanBytes[2000:]); code != http.StatusNoContent {
		t.Fatalf("completing PATCH: %d", code)
	}
	list, err := p.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	scanDir(t, p.cfg.DataDir) // filed, the portal still open
	p.scanUploads(t)
	form, err := p.Form(context.Background(), list[0].FileCode)
	if err != nil || !bytes.Equal(form, exampleForm()) {
		t.Fatalf("Form = %s, %v", form, err)
	}
	if b, err := p.uploadBytes(uploadID(loc)); err != nil || !bytes.Equal(b, scanBytes) {
		t.Fatalf("upload bytes = %d, %v", len(b), err)
	}
	var name string
	p.db.QueryRow(`SELECT name FROM submission_attachments`).Scan(&name)
	if got, err := p.openText(name, namePlace(1, 1)...); err != nil || got != scanName {
		t.Fatalf("attachment name = %q, %v", got, err)
	}
	p.Close()
	scanDir(t, p.cfg.DataDir)
}

// fileTwo files two applications and returns their file codes.
func fileTwo(t *testing.T, p *testPortal) []string {
	t.Helper()
	var codes []string
	for _, key := range []string{"key-sealed-a", "key-sealed-b"} {
		loc := p.createSealedUpload(citizenManifest(key), scanBytes, len(scanBytes))
		_ = loc
	}
	list, err := p.List(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	for _, s := range list {
		codes = append(codes, s.FileCode)
	}
	return codes
}

func TestPortalCorruptedFormNamesItsFileAndTheOthersStayReadable(t *testing.T) {
	p := newPortal(t)
	codes := fileTwo(t, p)
	var form []byte
	p.db.QueryRow(`SELECT form FROM submissions WHERE file_code = ?`, codes[0]).Scan(&form)
	form[len(form)/2] ^= 0x04
	if _, err := p.db.Exec(`UPDATE submissions SET form = ? WHERE file_code = ?`, form, codes[0]); err != nil {
		t.Fatal(err)
	}
	_, err := p.Form(context.Background(), codes[0])
	if !errors.Is(err, ErrSealed) || !errors.Is(err, seal.ErrBroken) || !strings.Contains(err.Error(), codes[0]) {
		t.Fatalf("Form of the corrupted record = %v", err)
	}
	if _, err := p.Form(context.Background(), codes[1]); err != nil {
		t.Fatal(err)
	}
	// A form moved to the other row does not open there either.
	if _, err := p.db.Exec(`UPDATE submissions SET form = (SELECT form FROM submissions WHERE file_code = ?) WHERE file_code = ?`,
		codes[1], codes[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Form(context.Background(), codes[0]); !errors.Is(err, seal.ErrBroken) {
		t.Fatalf("Form of a record moved from another row = %v", err)
	}
	if _, err := p.Form(context.Background(), codes[1]); err != nil {
		t.Fatal(err)
	}
}

// Upload bytes changed on disk, or a sealed segment moved, do not open:
// the error names the upload and where.
func TestPortalCorruptedUploadBytesDoNotOpen(t *testing.T) {
	p := newPortal(t)
	loc := p.createSealedUpload(citizenManifest("key-sealed-c"), scanBytes, len(scanBytes))
	id := uploadID(loc)
	raw := p.rawSealed(t, id)
	raw[len(raw)-3] ^= 0x10
	p.writeRawSealed(t, id, raw)
	if _, err := p.uploadBytes(id); !errors.Is(err, seal.ErrBroken) || !strings.Contains(err.Error(), id) {
		t.Fatalf("reading corrupted upload bytes = %v", err)
	}
}

// A portal data directory from before sealing (schema 4, a filed
// application's form and attachment name in clear in portal.db, its
// upload's manifest and bytes in clear in uploads/) is sealed when this
// version opens it, and reads as before.
func TestClearPortalDataDirIsSealedOnUpgrade(t *testing.T) {
	skipOnPostgres(t, "PostgreSQL records were never kept in clear: there is no schema-4 PostgreSQL database to upgrade")
	skipIfS3(t, "the upgrade seals a data directory's uploads/; a bucket never held clear uploads")
	ctx := context.Background()
	dir := t.TempDir()
	old := fstest.MapFS{}
	for _, n := range []string{"0001_init.sql", "0002_key_per_device.sql", "0003_audit_head.sql", "0004_instance.sql"} {
		b, err := fs.ReadFile(migrations, n)
		if err != nil {
			t.Fatal(err)
		}
		old[n] = &fstest.MapFile{Data: b}
	}
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "portal.db"), old, nil)
	if err != nil {
		t.Fatal(err)
	}
	const upload = "dev-0123456789abcdef-key-old-1"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO devices (id, name, token_hash, created_at) VALUES ('dev-0123456789abcdef', 'kiosk-1', 'h1', '2026-11-01T00:00:00Z')`, nil},
		{`INSERT INTO submissions (id, device_id, idempotency_key, file_code, procedure_id, catalog_version, captured_at,
			received_at, state, updated_at, form) VALUES (7, 'dev-0123456789abcdef', 'key-old', '000.00.01.H29-261101-0001',
			'birth-registration', '2026.11.1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 'received', '2026-11-01T00:00:00Z', ?)`,
			[]any{[]byte(exampleForm())}},
		{`INSERT INTO submission_attachments VALUES (7, 1, 'birth_certificate', ?, 'image/jpeg', ?, ?, ?, ?)`,
			[]any{scanName, len(scanBytes), hexSum(scanBytes), hexSum(scanBytes), upload}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	up := filepath.Join(dir, "uploads")
	os.MkdirAll(up, 0o700)
	mj, _ := json.Marshal(citizenManifest("key-old"))
	info, _ := json.Marshal(tushandler.FileInfo{ID: upload, Size: int64(len(scanBytes)), MetaData: tushandler.MetaData{
		"device_id": "dev-0123456789abcdef", portalapi.MetaManifest: string(mj)},
		Storage: map[string]string{"Type": "filestore", "Path": filepath.Join(up, upload), "InfoPath": filepath.Join(up, upload+".info")}})
	os.WriteFile(filepath.Join(up, upload+".info"), info, 0o600)
	os.WriteFile(filepath.Join(up, upload), scanBytes, 0o600)
	if hits, _ := piiscan.Dir(dir, citizenValues[0], scanName, string(scanBytes[:40])); len(hits) < 3 {
		t.Fatalf("the fixture holds too little in clear to prove anything: %v", hits)
	}

	s, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	form, err := s.Form(ctx, "000.00.01.H29-261101-0001")
	if err != nil || !bytes.Equal(form, exampleForm()) {
		t.Fatalf("Form after the upgrade = %s, %v", form, err)
	}
	if b, err := s.uploadBytes(upload); err != nil || !bytes.Equal(b, scanBytes) {
		t.Fatalf("upload bytes after the upgrade = %d, %v", len(b), err)
	}
	if got, _ := s.uploads.GetUpload(ctx, upload); got != nil {
		if info, _ := got.GetInfo(ctx); info.Offset != int64(len(scanBytes)) {
			t.Fatalf("offset after the upgrade = %d", info.Offset)
		}
	}
	scanDir(t, dir)
	s.Close()
	scanDir(t, dir)
	// Opened again, nothing is sealed twice.
	s, err = Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, err := s.uploadBytes(upload); err != nil || !bytes.Equal(b, scanBytes) {
		t.Fatalf("upload bytes after a second open = %d, %v", len(b), err)
	}
	if _, err := s.Form(ctx, "000.00.01.H29-261101-0001"); err != nil {
		t.Fatal(err)
	}
}

// A chunk spooled while its checksum is verified is sealed on disk and
// reads back whole, across block boundaries.
func TestSpooledChunkIsSealed(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, "chunk-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat(scanBytes, 50) // about 150 KB: three blocks
	w := newSpoolWriter(f)
	for rest := chunk; len(rest) > 0; {
		k := min(len(rest), 7000)
		if _, err := w.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	rd, err := w.reader()
	if err != nil {
		t.Fatal(err)
	}
	scanDir(t, dir)
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, chunk) {
		t.Fatalf("read back %d of %d bytes, %v", len(got), len(chunk), err)
	}
}

// Opening the portal again leaves an upload sealed as it arrived alone:
// its file's time, by which the sweeper expires it, does not move.
func TestReopenKeepsAnUploadsAge(t *testing.T) {
	skipIfS3(t, "the sparse file whose time a reopen must keep is the disk store's; a reopen writes nothing to a bucket")
	p := newPortal(t)
	loc := p.createSealedUpload(citizenManifest("key-sealed-d"), scanBytes, 1000)
	bin := filepath.Join(p.uploads.(*diskUploads).dir, uploadID(loc))
	old := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(bin, old, old); err != nil {
		t.Fatal(err)
	}
	p.Close()
	s, err := Open(context.Background(), Config{DataDir: p.cfg.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, err := os.Stat(bin); err != nil || !st.ModTime().Equal(old) || st.Size() != 1000 {
		t.Fatalf("upload file after a reopen: %v, %v; want %v, 1000 bytes", st.ModTime(), err, old)
	}
	if b, err := s.uploadBytes(uploadID(loc)); err != nil || !bytes.Equal(b, scanBytes[:1000]) {
		t.Fatalf("upload bytes after a reopen = %d, %v", len(b), err)
	}
}

// Rotating the portal's keys keeps every file readable: the KEK wraps the
// data keys anew, and a new data key seals the forms, the names, the
// metadata manifests and the uploads' bytes again; a portal opened after
// reads them all.
func TestPortalKeysRotateKeepsFilesReadable(t *testing.T) {
	p := newPortal(t)
	codes := fileTwo(t, p)
	ctx := context.Background()
	kek := seal.KEKPath(p.cfg.DataDir)
	before, _ := os.ReadFile(kek)
	if _, err := p.RotateKEK(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(kek); bytes.Equal(before, after) {
		t.Fatal("the KEK did not change")
	}
	v, n, err := p.RotateDataKey(ctx)
	if err != nil || v != 2 || n != 6 { // 2 forms, 2 names, 2 uploads
		t.Fatalf("RotateDataKey = %d, %d, %v", v, n, err)
	}
	p.Close()
	s, err := Open(ctx, Config{DataDir: p.cfg.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.scanUploads(t)
	for _, code := range codes {
		if form, err := s.Form(ctx, code); err != nil || !bytes.Equal(form, exampleForm()) {
			t.Fatalf("Form(%s) after the rotations = %v", code, err)
		}
	}
	for _, key := range []string{"key-sealed-a", "key-sealed-b"} {
		id := p.device + "-" + key + "-1"
		b, err := s.uploadBytes(id)
		if err != nil || !bytes.Equal(b, scanBytes) {
			t.Fatalf("upload %s after the rotations = %d bytes, %v", id, len(b), err)
		}
		raw := s.rawSealed(t, id)
		if v, _ := seal.Version(raw[4:]); v != 2 {
			t.Fatalf("upload %s is sealed under data key %d, want 2", id, v)
		}
	}
	rows, err := s.db.Query(`SELECT form FROM submissions`)
	if err != nil {
		t.Fatal(err)
	}
	old, forms := 0, 0
	for rows.Next() {
		var form []byte
		if err := rows.Scan(&form); err != nil {
			t.Fatal(err)
		}
		forms++
		if len(form) < 8 || !bytes.Equal(form[4:8], []byte{0, 0, 0, 2}) {
			old++
		}
	}
	rows.Close()
	if forms == 0 || old != 0 {
		t.Fatalf("%d of %d forms not sealed under data key 2", old, forms)
	}
	scanDir(t, p.cfg.DataDir)
}
