// Package migration reads numbered SQL migrations (0001_name.sql,
// 0002_name.sql, ...) from a file system, for the SQLite and PostgreSQL
// openers (internal/sqlitedb, internal/pgdb) that apply them.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// File is one migration: its number, its file name and its SQL.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in fsys in order. Their numbers must run 1,
// 2, ... without gaps, each file's name starting with its number.
func Load(fsys fs.FS) ([]File, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []File
	for _, f := range files {
		base := path.Base(f)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Version: n, Name: base, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, ... without gaps: %s", m.Name)
		}
	}
	return out, nil
}

// Version returns the number of migrations in fsys: the schema version they
// build.
func Version(fsys fs.FS) int {
	ms, _ := Load(fsys)
	return len(ms)
}
