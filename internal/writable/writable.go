// Package writable explains, in Vietnamese and English, why motcua cannot
// write where it must: a directory or file that belongs to another user, a
// read-only file system, or a full disk. Its errors name the path, its
// owner, the user motcua runs as, and what staff can do, instead of the
// system's bare "permission denied" or "no such file or directory".
package writable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/motcua/motcua/agent/i18n"
)

var (
	// ErrNotWritable is wrapped by the errors Check returns.
	ErrNotWritable = errors.New("not writable")
	// ErrDiskFull is wrapped by the errors DiskFull returns.
	ErrDiskFull = errors.New("disk full")
)

// Error codes of the *i18n.Error values this package returns.
const (
	CodeNotWritable = "not_writable"
	CodeDiskFull    = "disk_full"
)

// Access modes for access(2).
const (
	accessX = 0x1
	accessW = 0x2
	accessR = 0x4
)

// Check reports whether this process can create files in dir (creating dir
// if it is missing) and read and write those of names (files in dir) that
// exist. When it cannot, it returns an *i18n.Error wrapping ErrNotWritable
// that names the first path in the way and why.
func Check(dir string, names ...string) error {
	return CheckIn(dir, dir, names...)
}

// CheckIn is Check for a directory inside root (a data directory): when
// what is in the way is root or inside it, the fix it suggests is giving
// root, all of it, to this user.
func CheckIn(root, dir string, names ...string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil // no path to check: the caller's own error stands
	}
	if root, err = filepath.Abs(root); err != nil || !within(root, dir) {
		root = dir
	}
	// dir and its ancestors, the root last.
	var chain []string
	for p := dir; ; p = filepath.Dir(p) {
		chain = append(chain, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		p := chain[i]
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && i+1 < len(chain) {
			// Created in its parent, which must take it.
			if err := syscall.Access(chain[i+1], accessW|accessX); err != nil {
				return blocked(root, chain[i+1], err)
			}
			return nil
		}
		if err != nil || !fi.IsDir() {
			return nil // not a permission problem: the caller's own error says it
		}
		if err := syscall.Access(p, accessX); err != nil {
			return blocked(root, p, err)
		}
	}
	if err := syscall.Access(dir, accessW|accessX); err != nil {
		return blocked(root, dir, err)
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := syscall.Access(p, accessR|accessW); err != nil {
			return blocked(root, p, err)
		}
	}
	return nil
}

// blocked explains that this process cannot write path (root, one of its
// ancestors, or a directory or file in it) for the reason access(2) gave.
func blocked(root, path string, reason error) error {
	me := currentUser()
	owner, mode := "?", "?"
	if fi, err := os.Lstat(path); err == nil {
		mode = fi.Mode().String()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			owner = userName(st.Uid)
		}
	}
	var msg i18n.Text
	switch {
	case errors.Is(reason, syscall.EROFS):
		msg = i18n.Tf(
			"Không ghi được vào %s: ổ đĩa chứa nó đang ở chế độ chỉ đọc. Nhờ cán bộ kỹ thuật gắn lại ổ đĩa ở chế độ đọc-ghi, hoặc chọn thư mục dữ liệu khác (--data-dir)",
			"%s cannot be written: its file system is mounted read-only. Have technical staff remount it read-write, or choose another data directory (--data-dir)",
			path)
	case errors.Is(reason, syscall.EPERM):
		msg = i18n.Tf(
			"Không ghi được vào %[1]s (của người dùng %[2]s, quyền %[3]s): tệp bị khoá, kể cả với quản trị viên (chattr +i?). Báo cán bộ kỹ thuật (lsattr %[1]s)",
			"%[1]s cannot be written (owned by %[2]s, mode %[3]s): it is locked even against the administrator (chattr +i?). Call technical support (lsattr %[1]s)",
			path, owner, mode)
	case !within(root, path):
		// An ancestor of the data directory: giving it away is not the fix.
		msg = i18n.Tf(
			"Người dùng %[1]s không vào hoặc không ghi được %[2]s (của người dùng %[3]s, quyền %[4]s), nơi chứa thư mục dữ liệu %[5]s. Hãy chạy motcua bằng người dùng %[3]s, hoặc chọn thư mục dữ liệu mà người dùng %[1]s ghi được (--data-dir)",
			"user %[1]s cannot enter or write %[2]s (owned by %[3]s, mode %[4]s), which holds the data directory %[5]s: run motcua as %[3]s, or choose a data directory user %[1]s can write (--data-dir)",
			me, path, owner, mode, root)
	default:
		msg = i18n.Tf(
			"Người dùng %[1]s không ghi được vào %[2]s (của người dùng %[3]s, quyền %[4]s). Hãy chạy motcua bằng người dùng %[3]s, hoặc nhờ cán bộ kỹ thuật giao thư mục này cho người dùng %[1]s: sudo chown -R %[1]s %[5]s",
			"user %[1]s cannot write %[2]s (owned by %[3]s, mode %[4]s): run motcua as %[3]s, or have technical staff give it to user %[1]s: sudo chown -R %[1]s %[5]s",
			me, path, owner, mode, root)
	}
	return &i18n.Error{Code: CodeNotWritable, Msg: msg, Err: fmt.Errorf("%w: %s: %w", ErrNotWritable, path, reason)}
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// DiskFull returns an *i18n.Error wrapping ErrDiskFull and cause, saying
// that path (a file or the directory written to) could not be written for
// lack of space and how much is free where it is.
func DiskFull(path string, cause error) error {
	free := "?"
	dir := path
	for {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err == nil {
			free = formatBytes(st.Bavail * uint64(st.Bsize))
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
		dir = filepath.Dir(dir)
	}
	return &i18n.Error{
		Code: CodeDiskFull,
		Msg: i18n.Tf(
			"Ổ đĩa đầy: không ghi được vào %s (còn trống %s). Giải phóng dung lượng ổ đĩa (tệp tải về, thùng rác), không xoá thư mục dữ liệu của motcua, rồi thử lại; những gì đã lưu vẫn an toàn",
			"The disk is full: %s cannot be written (%s free). Free disk space (downloads, the trash), do not delete motcua's data directory, then try again; what was already saved is safe",
			path, free),
		Err: fmt.Errorf("%w: %w", ErrDiskFull, cause),
	}
}

// Explain returns err explained when it is a write the system refused for
// lack of space (ENOSPC, EDQUOT) or because the file system is read-only
// (EROFS), on a path an *fs.PathError or *os.LinkError names; other errors,
// and errors already explained, are returned as they are. A bare
// "permission denied" is left alone: it may come from reading, and the
// callers that write check with Check.
func Explain(err error) error {
	var ie *i18n.Error
	if err == nil || (errors.As(err, &ie) && (errors.Is(err, ErrDiskFull) || errors.Is(err, ErrNotWritable))) {
		return err
	}
	path := ""
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		path = pe.Path
	case errors.As(err, &le):
		path = le.New
	default:
		return err
	}
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return DiskFull(path, err)
	case errors.Is(err, syscall.EROFS):
		if x := Check(filepath.Dir(path), filepath.Base(path)); x != nil {
			return WithCause(x, err)
		}
	}
	return err
}

// ExplainWrite is Explain for errors of writes, to files or to directories
// (creating a file, a directory or a link): a refused permission (EACCES,
// EPERM) is explained too, by the directory or file in the way and its
// owner. root is the folder the fix gives to this user when what is in the
// way is inside it (see CheckIn); "" for the written path's own folder.
func ExplainWrite(err error, root string) error {
	x := Explain(err)
	if x != err || !errors.Is(err, fs.ErrPermission) {
		return x
	}
	var pe *fs.PathError
	var le *os.LinkError
	path := ""
	switch {
	case errors.As(err, &le):
		path = le.New
	case errors.As(err, &pe):
		path = pe.Path
	default:
		return err
	}
	if root == "" {
		root = filepath.Dir(path)
	}
	if c := CheckIn(root, filepath.Dir(path), filepath.Base(path)); c != nil {
		return WithCause(c, err)
	}
	return err
}

// WithCause returns explained (an error of this package) wrapping cause
// too, so that errors.As still finds what cause holds.
func WithCause(explained, cause error) error {
	var ie *i18n.Error
	if !errors.As(explained, &ie) {
		return explained
	}
	x := *ie
	x.Err = fmt.Errorf("%w: %w", ie.Err, cause)
	return &x
}

// currentUser names the user this process runs as.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

// userName names the user with uid, or says the number.
func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return "uid " + strconv.FormatUint(uint64(uid), 10)
}

// formatBytes formats n in KiB, MiB or GiB.
func formatBytes(n uint64) string {
	switch {
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", n>>10)
	case n < 1<<30:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
