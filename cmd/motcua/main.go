// Command motcua is the one-stop kiosk agent: it captures applications for
// public services into a local database and delivers them to the portal.
//
// Run `motcua --help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed: bad input, broken audit log, ...
	exitUsage = 2 // the command line itself is wrong
)

// command is one subcommand.
type command struct {
	name    string
	args    string // argument synopsis
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

var commands []command

func init() {
	commands = []command{
		{"run", runSynopsis, "start the kiosk agent: its window (headless without a display), its devices and its delivery", cmdRun},
		{"doctor", doctorSynopsis, "check the devices, the portal link, the disk and the database, with hints for staff", cmdDoctor},
		{"config", "[--config FILE] [--json] | example", "print the effective configuration and where it came from, or an example file", cmdConfig},
		{"submit", "--procedure CODE --form FILE.json [--attach [EVIDENCE=]FILE]...", "validate an application, store it and queue it for delivery", cmdSubmit},
		{"queue", "[--json] [--state STATE]...", "list the applications and where each stands", cmdQueue},
		{"show", "ID", "show one application: form, attachments and history", cmdShow},
		{"requeue", "ID", "queue a quarantined application again, once staff have checked it", cmdRequeue},
		{"procedures", "[--json] | example CODE", "list the procedures, or print a filled example form", cmdProcedures},
		{"audit", auditSynopsis, "check the audit log's hash chain, or export a period of it signed for inspectors", cmdAudit},
		{"staff", staffSynopsis, "add, list, disable staff logins of the counter, or reset a PIN (on this machine: the first admin too)", cmdStaff},
		{"purge", purgeSynopsis, "erase the personal data of files the portal closed more than [retention] days ago", cmdPurge},
		{"scan", scanSynopsis, "scan paper evidence into one small PDF, or list the scanners", cmdScan},
		{"receipt", receiptSynopsis, "print an application's receipt with its tracking QR code", cmdReceipt},
		{"video", videoSynopsis, "make the sample instructional video, or play a video as the kiosk does", cmdVideo},
		{"sim", "[--cards FILE] [--interval 5s] [--dir DIR]", "play the kiosk's devices on pseudo-terminals, for demos without hardware", cmdSim},
		{"card", "parse < payloads.txt", "parse ID card QR payloads, one per line, into JSON", cmdCard},
		{"sync", "[--once] --portal URL [--insecure]", "deliver queued applications to the portal and pull their status", cmdSync},
		{"enroll", "--portal URL --code CODE [--portal-ca FILE] [--insecure]", "enroll this kiosk with a portal, with a one-time code from its operator", cmdEnroll},
		{"portal", "[--db postgres://...] [--listen ADDR] [--tls-cert FILE --tls-key FILE] | list | advance [--officer NAME] [--office NAME] | enroll-code | devices | revoke DEVICE", "run the reference portal, list and advance its files, make enrollment codes, list and revoke devices", cmdPortal},
		{"keys", keysSynopsis, "rotate the keys that seal personal data at rest (--data: a new data key too)", cmdKeys},
		{"say", saySynopsis, "speak text in the kiosk's voices (Vietnamese or English), or write it to a WAV file", cmdSay},
		{"help", "[COMMAND]", "show help", nil},
	}
}

// env is what every command gets: its output streams and shared options.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dataDir        string
	log            *slog.Logger
	now            func() time.Time
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the command line and runs the command, returning the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				return c.run(ctx, e, []string{"--help"})
			}
		}
		usage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil || c.run == nil {
		fmt.Fprintf(stderr, "motcua: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `motcua — the one-stop kiosk agent (một cửa)

Usage: motcua COMMAND [OPTIONS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		if c.args != "" {
			fmt.Fprintf(w, "  %-11s   motcua %s %s\n", "", c.name, c.args)
		}
	}
	fmt.Fprintf(w, `
Options every command takes:
  --data-dir DIR     where the database lives (default %s)
  --log-level LEVEL  debug, info, warn or error

Run 'motcua COMMAND --help' for a command's options.
`, defaultDataDir())
}

// defaultDataDir is $MOTCUA_DATA_DIR, else $XDG_DATA_HOME/motcua, else
// ~/.local/share/motcua.
func defaultDataDir() string {
	if d := os.Getenv("MOTCUA_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "motcua")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "motcua")
	}
	return "motcua-data"
}

// flags returns a FlagSet for command name with the common options bound to
// e; defaultLevel is the log level when --log-level is not given.
func (e *env) flags(name, synopsis string, defaultLevel slog.Level) (*flag.FlagSet, func() error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.dataDir, "data-dir", defaultDataDir(), "data directory")
	level := fs.String("log-level", defaultLevel.String(), "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: motcua %s %s\n\nOptions:\n", name, synopsis)
		fs.PrintDefaults()
	}
	setup := func() error {
		var l slog.Level
		if err := l.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: %q is not debug, info, warn or error", *level)
		}
		e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l}))
		return nil
	}
	return fs, setup
}

// parse parses args with fs and runs setup, returning the exit code to use
// when they fail (and -1 on success). Flags may come after positional
// arguments.
func (e *env) parse(fs *flag.FlagSet, setup func() error, args []string) ([]string, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK
			}
			return nil, exitUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if err := setup(); err != nil {
		fmt.Fprintf(e.stderr, "motcua: %v\n", err)
		return nil, exitUsage
	}
	return pos, -1
}

// parseNoArgs is parse for commands that take no positional arguments.
func (e *env) parseNoArgs(fs *flag.FlagSet, setup func() error, args []string) int {
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "motcua %s: unexpected argument %q\n", fs.Name(), pos[0])
		return exitUsage
	}
	return -1
}

// parseAppID reads an application id argument for command name, printing a
// usage error when it is not one.
func (e *env) parseAppID(name, arg string) (int64, bool) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		fmt.Fprintf(e.stderr, "motcua %s: %q is not an application id (a positive number, see 'motcua queue')\n", name, arg)
		return 0, false
	}
	return id, true
}

// openStore opens the database in the data directory, for a command that
// writes.
func (e *env) openStore(ctx context.Context) (*store.Store, error) {
	path := filepath.Join(e.dataDir, store.FileName)
	s, err := store.Open(ctx, path, store.Options{Logger: e.log, Now: e.now})
	if errors.Is(err, store.ErrDamaged) {
		return nil, fmt.Errorf("%w\n%s\n%s", err, errDamaged.VI, errDamaged.EN)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// errDamaged says what to do about a database that fails its integrity
// check, which commands that write refuse.
var errDamaged = i18n.T(
	"Cơ sở dữ liệu không qua được kiểm tra toàn vẹn nên không ghi thêm gì vào đó. Không xoá gì; chạy motcua doctor và báo ngay cán bộ kỹ thuật.",
	"The database fails its integrity check, so nothing more is written to it. Delete nothing; run motcua doctor and call technical support at once.")

// readStore opens the database in the data directory read-only, for a
// command that only reads: it changes nothing, not even a damaged WAL, and
// creates nothing.
func (e *env) readStore(ctx context.Context) (*store.Store, error) {
	path := filepath.Join(e.dataDir, store.FileName)
	return store.OpenReadOnly(ctx, path, store.Options{Logger: e.log, Now: e.now})
}

// openWithCatalog opens the database and returns it with the procedure
// catalog to capture with: the newest of the built-in one and those pulled
// from the portal.
func (e *env) openWithCatalog(ctx context.Context) (*store.Store, *procedure.Catalog, error) {
	st, err := e.openStore(ctx)
	return withCatalog(ctx, st, err)
}

// readWithCatalog is openWithCatalog for a command that only reads.
func (e *env) readWithCatalog(ctx context.Context) (*store.Store, *procedure.Catalog, error) {
	st, err := e.readStore(ctx)
	return withCatalog(ctx, st, err)
}

func withCatalog(ctx context.Context, st *store.Store, err error) (*store.Store, *procedure.Catalog, error) {
	if err != nil {
		return nil, nil, err
	}
	stored, err := st.Catalogs(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	cat, err := procedure.Current(stored)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("procedure catalog: %w", err)
	}
	return st, cat, nil
}

// fail prints an error for the CLI and returns exitFail.
// An error whose real cause is the disk or the data directory is told in
// English and, on the next line, in Vietnamese (see explainStorage).
func (e *env) fail(format string, args ...any) int {
	vi := e.explainStorage(args)
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(e.stderr, "motcua: "+strings.TrimSpace(msg))
	for _, v := range vi {
		fmt.Fprintln(e.stderr, "  "+v)
	}
	return exitFail
}
