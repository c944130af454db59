package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/piiscan"
	"github.com/motcua/motcua/internal/sqlitedb"
)

// A citizen whose personal data must never be found in clear.
const (
	citizenName  = "Trần Thị Hồng Nhung"
	citizenID    = "079301004567"
	citizenPhone = "0912345678"
	scanText     = "GIẤY CHỨNG SINH Trần Thị Hồng Nhung"
	fileName     = "giấy-chứng-sinh-Trần-Thị-Hồng-Nhung.jpg"
)

func citizenApp(key string) NewApplication {
	form, _ := json.Marshal(map[string]string{"mother_full_name": citizenName, "mother_id_number": citizenID,
		"phone": citizenPhone})
	return NewApplication{IdempotencyKey: key, ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		Form: form, Actor: "test", Attachments: []NewAttachment{{EvidenceKey: "birth_certificate", Name: fileName,
			MediaType: "image/jpeg", Content: []byte(scanText)}}}
}

func scanClean(t *testing.T, dir string) {
	t.Helper()
	hits, err := piiscan.Dir(dir, citizenName, citizenID, citizenPhone, scanText, fileName)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Errorf("personal data in clear: %s", h)
	}
}

func TestPersonalDataIsSealedAtRest(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, FileName))
	ctx := context.Background()
	a, err := s.Create(ctx, citizenApp("k-sealed"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUpload(ctx, a.ID, Upload{URL: "u", Block: []byte("block " + citizenName)}); err != nil {
		t.Fatal(err)
	}
	scanClean(t, dir) // the WAL still open
	got, err := s.Get(ctx, a.ID)
	if err != nil || !strings.Contains(string(got.Form), citizenName) || got.Attachments[0].Name != fileName {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	b, err := s.AttachmentContent(ctx, got.Attachments[0].ID)
	if err != nil || string(b) != scanText {
		t.Fatalf("AttachmentContent = %q, %v", b, err)
	}
	u, _, err := s.Upload(ctx, a.ID)
	if err != nil || string(u.Block) != "block "+citizenName {
		t.Fatalf("Upload = %q, %v", u.Block, err)
	}
	s.Close()
	scanClean(t, dir)
	if fi, err := os.Stat(KEKPath(filepath.Join(dir, FileName))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("KEK file: %v, %v", fi, err)
	}
}

// corrupt changes one byte of application id's sealed form.
func corrupt(t *testing.T, s *Store, id int64) {
	t.Helper()
	var b []byte
	if err := s.db.QueryRow(`SELECT data FROM personal_data WHERE application_id = ? AND part = 'form'`, id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	b[len(b)-20] ^= 0x01
	if _, err := s.db.Exec(`UPDATE personal_data SET data = ? WHERE application_id = ? AND part = 'form'`, b, id); err != nil {
		t.Fatal(err)
	}
}

func createThree(t *testing.T, s *Store) []int64 {
	t.Helper()
	var ids []int64
	for _, k := range []string{"k-one", "k-two", "k-three"} {
		a, err := s.Create(context.Background(), citizenApp(k), application.Queued)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func TestCorruptedSealedRecordNamesItsApplicationAndTheOthersStayReadable(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	ids := createThree(t, s)
	corrupt(t, s, ids[1])
	_, err := s.Get(ctx, ids[1])
	if !errors.Is(err, ErrSealed) || !errors.Is(err, seal.ErrBroken) || !strings.Contains(err.Error(), "application 2 form") {
		t.Fatalf("Get of the corrupted record = %v", err)
	}
	for _, id := range []int64{ids[0], ids[2]} {
		if a, err := s.Get(ctx, id); err != nil || !strings.Contains(string(a.Form), citizenName) {
			t.Fatalf("Get(%d) = %v", id, err)
		}
	}
}

func TestCorruptedSealedAttachmentIsDamaged(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, err := s.Create(ctx, citizenApp("k-att"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	att := a.Attachments[0].ID
	var b []byte
	if err := s.db.QueryRow(`SELECT data FROM personal_data WHERE part = ?`, attachmentPart(att)).Scan(&b); err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x80
	if _, err := s.db.Exec(`UPDATE personal_data SET data = ? WHERE part = ?`, b, attachmentPart(att)); err != nil {
		t.Fatal(err)
	}
	_, err = s.AttachmentContent(ctx, att)
	if !errors.Is(err, ErrAttachmentDamaged) || !errors.Is(err, ErrSealed) || strings.Contains(err.Error(), fileName) {
		t.Fatalf("AttachmentContent = %v", err)
	}
}

func TestSealedRecordMovedToAnotherRowDoesNotOpen(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	ids := createThree(t, s)
	// Application 1's sealed form copied over application 3's.
	if _, err := s.db.Exec(`UPDATE personal_data SET data = (SELECT data FROM personal_data WHERE application_id = ? AND part = 'form')
		WHERE application_id = ? AND part = 'form'`, ids[0], ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ids[2]); !errors.Is(err, seal.ErrBroken) || !strings.Contains(err.Error(), "application 3 form") {
		t.Fatalf("Get of the moved record = %v", err)
	}
	// An attachment's bytes moved into the form's place of the same
	// application do not open either.
	a, _ := s.Get(ctx, ids[0])
	if _, err := s.db.Exec(`UPDATE personal_data SET data = (SELECT data FROM personal_data WHERE part = ?)
		WHERE application_id = ? AND part = 'form'`, attachmentPart(a.Attachments[0].ID), ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ids[1]); !errors.Is(err, seal.ErrBroken) {
		t.Fatalf("Get of a form replaced by an attachment = %v", err)
	}
	if _, err := s.Get(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
}

func TestWrongKEKIsRefusedNamingTheKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s := openTest(t, path)
	ctx := context.Background()
	ids := createThree(t, s)
	s.Close()
	other := make([]byte, seal.KeySize)
	rand.Read(other)
	kek := KEKPath(path)
	if err := os.Remove(kek); err != nil {
		t.Fatal(err)
	}
	if err := seal.WriteKEK(kek, other); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path, Options{})
	var ie *i18n.Error
	if !errors.Is(err, seal.ErrWrongKEK) || !errors.As(err, &ie) || !strings.Contains(err.Error(), kek) || ie.Msg.VI == "" {
		t.Fatalf("Open with another KEK = %v", err)
	}
	// Read-only, the queue still lists; each record's read says why not.
	ro, err := OpenReadOnly(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if l, err := ro.List(ctx, ListOptions{}); err != nil || len(l) != 3 {
		t.Fatalf("List = %d, %v", len(l), err)
	}
	if _, err := ro.Get(ctx, ids[0]); !errors.Is(err, seal.ErrWrongKEK) || !strings.Contains(err.Error(), "application 1") {
		t.Fatalf("Get with another KEK = %v", err)
	}
	// A missing KEK is not replaced by a new one.
	os.Remove(kek)
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, seal.ErrNoKEK) {
		t.Fatalf("Open without its KEK = %v", err)
	}
	if _, err := os.Stat(kek); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a new KEK was made for sealed data: %v", err)
	}
}

func TestKEKFileOthersCanReadIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	openTest(t, path).Close()
	kek := KEKPath(path)
	for _, tc := range []struct {
		path string
		mode fs.FileMode
	}{{kek, 0o640}, {kek, 0o604}, {filepath.Dir(kek), 0o755}} {
		orig, _ := os.Stat(tc.path)
		if err := os.Chmod(tc.path, tc.mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), path, Options{})
		var ie *i18n.Error
		if !errors.Is(err, seal.ErrKeyFile) || !errors.As(err, &ie) || !strings.Contains(ie.Msg.VI, tc.path) ||
			!strings.Contains(err.Error(), tc.path) {
			t.Errorf("Open with %s mode %o = %v", tc.path, tc.mode, err)
		}
		os.Chmod(tc.path, orig.Mode().Perm())
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestRotateKeepsEveryRecordReadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s := openTest(t, path)
	ctx := context.Background()
	ids := createThree(t, s)
	if err := s.SaveUpload(ctx, ids[0], Upload{URL: "u", Block: []byte("blk")}); err != nil {
		t.Fatal(err)
	}
	oldKEK, _ := os.ReadFile(KEKPath(path))
	if _, err := s.RotateKEK(ctx); err != nil {
		t.Fatal(err)
	}
	newKEK, _ := os.ReadFile(KEKPath(path))
	if bytes.Equal(oldKEK, newKEK) || len(newKEK) != seal.KeySize {
		t.Fatal("the KEK file did not change")
	}
	v, n, err := s.RotateDataKey(ctx)
	if err != nil || v != 2 || n != 7 { // 3 forms, 3 attachments, 1 manifest block
		t.Fatalf("RotateDataKey = %d, %d, %v", v, n, err)
	}
	s.Close()
	s = openTest(t, path)
	for _, id := range ids {
		a, err := s.Get(ctx, id)
		if err != nil || !strings.Contains(string(a.Form), citizenName) {
			t.Fatalf("Get(%d) after rotations = %v", id, err)
		}
		if b, err := s.AttachmentContent(ctx, a.Attachments[0].ID); err != nil || string(b) != scanText {
			t.Fatalf("attachment after rotations = %q, %v", b, err)
		}
	}
	if u, _, err := s.Upload(ctx, ids[0]); err != nil || string(u.Block) != "blk" {
		t.Fatalf("Upload after rotations = %q, %v", u.Block, err)
	}
	var old int
	s.db.QueryRow(`SELECT count(*) FROM personal_data WHERE substr(data, 5, 4) != x'00000002'`).Scan(&old)
	if old != 0 {
		t.Fatalf("%d records not sealed under data key 2", old)
	}
}

// A KEK rotation cut short after its transaction committed (the new KEK
// still beside the old one) is finished by the next open.
func TestKEKRotationCutShortIsFinished(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s := openTest(t, path)
	ctx := context.Background()
	ids := createThree(t, s)
	kek := KEKPath(path)
	old, _ := os.ReadFile(kek)
	if _, err := s.RotateKEK(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Put the files back as a crash before the rename leaves them.
	if err := os.Rename(kek, kek+".new"); err != nil {
		t.Fatal(err)
	}
	if err := seal.WriteKEK(kek, old); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path)
	if _, err := s.Get(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kek + ".new"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the new KEK is still beside the old: %v", err)
	}
}

// migrationsUpTo holds the store's migrations numbered up to n.
func migrationsUpTo(t *testing.T, n int) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	ents, _ := fs.ReadDir(migrations, ".")
	for _, e := range ents {
		var num int
		if _, err := fmtSscan(e.Name(), &num); err != nil || num > n {
			continue
		}
		b, _ := fs.ReadFile(migrations, e.Name())
		out[e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

// A data directory from before sealing (schema 6, its personal data in
// clear in the database and its WAL) is sealed when this version opens
// it: nothing is left in clear and every record reads as before.
func TestClearDataDirIsSealedOnUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	db, err := sqlitedb.Open(ctx, path, migrationsUpTo(t, 6), nil)
	if err != nil {
		t.Fatal(err)
	}
	form, _ := json.Marshal(map[string]string{"mother_full_name": citizenName, "mother_id_number": citizenID, "phone": citizenPhone})
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO applications (id, idempotency_key, procedure_id, catalog_version, state, attachments, payload_bytes,
			created_at, updated_at) VALUES (1, 'k-old', 'birth-registration', '2026.11.1', 'queued', 1, ?, '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')`,
			[]any{len(scanText)}},
		{`INSERT INTO personal_data (application_id, part, data) VALUES (1, 'form', ?)`, []any{form}},
		{`INSERT INTO attachments (id, application_id, ordinal, evidence_key, media_type, size, sha256)
			VALUES (5, 1, 1, 'birth_certificate', 'image/jpeg', ?, ?)`, []any{len(scanText), sha256Hex([]byte(scanText))}},
		{`INSERT INTO personal_data (application_id, part, name, data) VALUES (1, 'attachment:5', ?, ?)`,
			[]any{[]byte(fileName), []byte(scanText)}},
		{`INSERT INTO uploads (application_id, url, manifests) VALUES (1, 'u', ?)`, []any{[]byte("block " + citizenPhone)}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	hits, _ := piiscan.Dir(dir, citizenName, citizenID, citizenPhone, scanText, fileName)
	if len(hits) == 0 {
		t.Fatal("the fixture holds no personal data in clear: the test would prove nothing")
	}

	s := openTest(t, path)
	a, err := s.Get(ctx, 1)
	if err != nil || !bytes.Equal(a.Form, form) || a.Attachments[0].Name != fileName {
		t.Fatalf("Get after the upgrade = %+v, %v", a, err)
	}
	if b, err := s.AttachmentContent(ctx, 5); err != nil || string(b) != scanText {
		t.Fatalf("attachment after the upgrade = %q, %v", b, err)
	}
	if u, _, err := s.Upload(ctx, 1); err != nil || string(u.Block) != "block "+citizenPhone {
		t.Fatalf("Upload after the upgrade = %q, %v", u.Block, err)
	}
	scanClean(t, dir) // open, WAL and all
	s.Close()
	scanClean(t, dir)
}

func fmtSscan(name string, n *int) (int, error) { return fmt.Sscanf(name, "%04d_", n) }

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
