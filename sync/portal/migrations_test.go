package portal

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/motcua/motcua/internal/sqlitedb"
)

// A portal.db written before keys were scoped by device keeps its files,
// their attachments and their status events through the migration.
func TestMigrationKeepsFilesFiledBeforeKeysWerePerDevice(t *testing.T) {
	skipOnPostgres(t, "it upgrades a schema-1 portal.db; TestPostgresMigrationsMatchSQLite covers the PostgreSQL set")
	ctx := context.Background()
	dir := t.TempDir()
	v1, err := fs1(t)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "portal.db"), v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO devices (id, name, token_hash, created_at) VALUES ('dev-1', 'kiosk-1', 'h1', '2026-11-01T00:00:00Z')`,
		`INSERT INTO submissions (id, device_id, idempotency_key, file_code, procedure_id, catalog_version, captured_at,
			received_at, state, updated_at, form) VALUES (7, 'dev-1', 'key-00000001', '000.00.01.H29-261101-0001',
			'birth-registration', '2026.11.1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 'received', '2026-11-01T00:00:00Z', X'7B7D')`,
		`INSERT INTO submission_attachments VALUES (7, 1, 'e', 'a.jpg', 'image/jpeg', 3, 'x', 'x', 'dev-1-key-00000001-1')`,
		`INSERT INTO events (submission_id, device_id, state, at) VALUES (7, 'dev-1', 'received', '2026-11-01T00:00:00Z')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		t.Fatalf("open after the migration: %v", err)
	}
	defer s.Close()
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].FileCode != "000.00.01.H29-261101-0001" || len(list[0].Attachments) != 1 {
		t.Fatalf("List after the migration = %+v, %v", list, err)
	}
	var events int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM events e JOIN submissions s ON s.id = e.submission_id`).Scan(&events)
	if events != 1 {
		t.Fatalf("%d events join their submission", events)
	}
	var fkErrors int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkErrors)
	if fkErrors != 0 {
		t.Fatalf("%d foreign key violations after the migration", fkErrors)
	}
}

// fs1 holds the first migration only: the schema before keys were scoped.
func fs1(t *testing.T) (fstest.MapFS, error) {
	t.Helper()
	b, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	return fstest.MapFS{"0001_init.sql": {Data: b}}, err
}
