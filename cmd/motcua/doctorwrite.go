package main

import (
	"errors"
	"path/filepath"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/internal/writable"
)

// checkDatabaseWritable fails the database check when this user cannot
// write the database at path or create files beside it (its -wal and
// -shm, or the database itself): reading it may work, but the next
// capture would fail. ok is false with the failing result.
func checkDatabaseWritable(path string) (r checkResult, ok bool) {
	base := filepath.Base(path)
	err := writable.Check(filepath.Dir(path), base, base+"-wal", base+"-shm")
	var ie *i18n.Error
	if err == nil || !errors.As(err, &ie) {
		return checkResult{}, true
	}
	return failed(ie.Msg, "%s cannot be written: %v", path, ie.Err), false
}
