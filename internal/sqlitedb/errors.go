package sqlitedb

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/internal/writable"
)

// Explain returns err, an error from opening or writing the database at
// path, explained in Vietnamese and English when its real cause is the
// disk or the data directory: SQLITE_FULL becomes a disk-full error naming
// the data directory and its free space; SQLITE_READONLY, SQLITE_CANTOPEN
// and SQLITE_PERM, which SQLite reports as "attempt to write a readonly
// database" or even "no such file or directory" when it cannot create its
// -wal or -shm file, become an error naming the directory or file this
// process cannot write and its owner. The result wraps err. Other errors
// are returned as they are.
func Explain(err error, path string) error {
	if err == nil || errors.Is(err, writable.ErrNotWritable) || errors.Is(err, writable.ErrDiskFull) {
		return err // nothing to explain, or explained already
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		// Creating the data directory, or a file in it, refused.
		var pe *fs.PathError
		dir := filepath.Dir(path)
		if errors.As(err, &pe) && errors.Is(err, fs.ErrPermission) && onPath(dir, pe.Path) {
			if x := writable.Check(dir); x != nil {
				return writable.WithCause(x, err)
			}
		}
		return writable.Explain(err)
	}
	errno := se.SystemErrno
	switch {
	case se.Code == sqlite3.ErrFull, errno == syscall.ENOSPC, errno == syscall.EDQUOT:
		return writable.DiskFull(filepath.Dir(path), err)
	case se.Code == sqlite3.ErrReadonly, se.Code == sqlite3.ErrCantOpen, se.Code == sqlite3.ErrPerm,
		se.Code == sqlite3.ErrIoErr && (errno == syscall.EACCES || errno == syscall.EPERM || errno == syscall.EROFS):
		base := filepath.Base(path)
		if x := writable.Check(filepath.Dir(path), base, base+"-wal", base+"-shm", base+"-journal"); x != nil {
			return writable.WithCause(x, err)
		}
	}
	return err
}

// onPath reports whether p is dir, one of its ancestors, or inside it.
func onPath(dir, p string) bool {
	dir, p = filepath.Clean(dir), filepath.Clean(p)
	sep := string(filepath.Separator)
	return p == dir || strings.HasPrefix(dir, strings.TrimSuffix(p, sep)+sep) || strings.HasPrefix(p, dir+sep)
}
