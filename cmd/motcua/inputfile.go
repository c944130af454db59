package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/internal/writable"
)

// Errors reading a file named on the command line.
var (
	// errNotRegular is returned for a path that is not a regular file: a
	// named pipe would block the command in open(2), a device such as
	// /dev/zero would never end, a directory has no content.
	errNotRegular = errors.New("not a regular file")
	// errTooLarge is returned for a file or stream that holds more than
	// the command reads.
	errTooLarge = errors.New("too large")
	// errInterrupted is returned when a signal stops a read.
	errInterrupted = errors.New("interrupted")
)

// notRegularError says what a path that is not a regular file is.
type notRegularError struct {
	// kind is what it is, for people: "named pipe", "directory", ...
	kind i18n.Text
}

func (e *notRegularError) Error() string { return "is a " + e.kind.EN + ", not a regular file" }
func (e *notRegularError) Unwrap() error { return errNotRegular }

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) i18n.Text {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return i18n.T("ống dẫn có tên (named pipe)", "named pipe")
	case m&fs.ModeSocket != 0:
		return i18n.T("socket", "socket")
	case m&fs.ModeCharDevice != 0:
		return i18n.T("thiết bị ký tự", "character device")
	case m&fs.ModeDevice != 0:
		return i18n.T("thiết bị khối", "block device")
	case m.IsDir():
		return i18n.T("thư mục", "directory")
	}
	return i18n.T("tệp đặc biệt", "special file")
}

// checkRegular refuses a file that is not regular, saying what it is.
func checkRegular(info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	return &notRegularError{fileKind(info.Mode())}
}

// readRegularFile reads the regular file at path (a symbolic link to one
// is followed), at most limit bytes. Anything else is refused before it is
// opened; it is opened without blocking and checked again once open, so a
// file swapped for a named pipe in between cannot block the command. A file
// larger than limit, or one that grows past it while being read, is refused
// with errTooLarge rather than truncated.
func readRegularFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(info); err != nil {
		return nil, err
	}
	if info.Size() > limit {
		return nil, tooLarge(info.Size(), limit)
	}
	return readBounded(f, limit)
}

// readBounded reads r to its end, refusing more than limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes (%s)", errTooLarge, limit, bytesIEC(uint64(limit)))
	}
	return b, nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("%w: %d bytes, at most %d (%s)", errTooLarge, size, limit, bytesIEC(uint64(limit)))
}

// untilDone reads r until ctx ends, for a stream such as standard input
// that may never end: a read blocked on r then returns errInterrupted. The
// read on r is left behind, for the command is about to exit.
func untilDone(ctx context.Context, r io.Reader) io.Reader {
	if r == nil {
		return eofReader{}
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, r)
		pw.CloseWithError(err)
	}()
	context.AfterFunc(ctx, func() {
		pw.CloseWithError(fmt.Errorf("%w (%v)", errInterrupted, context.Cause(ctx)))
	})
	return pr
}

// eofReader is an empty stream: no standard input.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// withoutPath is err without the operation and path an *fs.PathError
// repeats, for messages that name the path already.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// createRegularFile creates or truncates the file at path for writing,
// refusing what is not a regular file: opening a named pipe for writing
// would block until something reads it, and a device is not where a
// document goes.
func createRegularFile(path string) (*os.File, error) {
	if info, err := os.Stat(path); err == nil {
		if err := checkRegular(info); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK, 0o666)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil {
		err = checkRegular(info)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// explainOutput returns err, from writing the output file name (or a
// temporary file beside it), explained in both languages when the disk is
// full or the folder or file cannot be written, naming name rather than
// the temporary file; other errors are returned as they are.
func explainOutput(err error, name string) error {
	var pe *fs.PathError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	x := writable.ExplainWrite(&fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}, "")
	var ie *i18n.Error
	if !errors.As(x, &ie) {
		return err
	}
	return writable.WithCause(x, err)
}
