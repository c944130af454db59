package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/motcua/motcua/agent/staff"
)

const staffSynopsis = "add --login LOGIN --name NAME [--role staff|supervisor|admin] | list | disable LOGIN | reset-pin LOGIN"

// cmdStaff manages who may log in at the counter and the staff console.
// It runs on the machine itself, which is trusted by its file permissions:
// whoever may run it there may also read and write the data directory
// (0700, the motcua user's), so no PIN is asked; the first admin is made
// this way (`motcua staff add --role admin`). Every change is audited
// with the operating-system user as actor ("cli:USER"). A PIN is read
// from standard input, one line, never from the command line (where ps
// and the shell history would show it).
func cmdStaff(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("staff", staffSynopsis, slog.LevelWarn)
	login := fs.String("login", "", "add: the member's login (lowercase letters, digits, '.', '-', '_')")
	name := fs.String("name", "", "add: the member's full name, as the login screen shows it")
	role := fs.String("role", string(staff.RoleStaff), "add: staff, supervisor or admin")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	usage := func() int {
		fmt.Fprintln(e.stderr, "motcua staff: usage: motcua staff "+staffSynopsis)
		return exitUsage
	}
	if len(pos) == 0 {
		return usage()
	}
	switch {
	case pos[0] == "add" && len(pos) == 1:
		if *login == "" || *name == "" {
			fmt.Fprintln(e.stderr, "motcua staff add: --login and --name are required")
			return exitUsage
		}
		r, err := staff.ParseRole(*role)
		if err != nil {
			fmt.Fprintf(e.stderr, "motcua staff add: --role: %v\n", err)
			return exitUsage
		}
		if err := staff.CheckLogin(*login); err != nil {
			fmt.Fprintf(e.stderr, "motcua staff add: --login: %v\n", err)
			return exitUsage
		}
		return e.withStaff(ctx, func(dir *staff.Directory, by string) error {
			pin, err := e.readPIN(*login)
			if err != nil {
				return err
			}
			m, err := dir.Add(ctx, by, *login, *name, r, pin)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added %s (%s), %s, staff id %d.\n", m.Login, m.Name, m.Role, m.ID)
			return nil
		})
	case pos[0] == "list" && len(pos) == 1:
		return e.withStaff(ctx, func(dir *staff.Directory, _ string) error {
			list, err := dir.List(ctx)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(e.stdout, "No staff yet: add the first admin with motcua staff add --role admin --login LOGIN --name NAME")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLOGIN\tNAME\tROLE\tSTATE")
			for _, m := range list {
				state := "active"
				switch {
				case m.Disabled:
					state = "disabled"
				case e.now().Before(m.LockedUntil):
					state = "locked until " + m.LockedUntil.Local().Format("15:04")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Login, m.Name, m.Role, state)
			}
			return tw.Flush()
		})
	case pos[0] == "disable" && len(pos) == 2:
		return e.withStaff(ctx, func(dir *staff.Directory, by string) error {
			if err := dir.Disable(ctx, by, pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Disabled %s: they can no longer log in.\n", pos[1])
			return nil
		})
	case pos[0] == "reset-pin" && len(pos) == 2:
		return e.withStaff(ctx, func(dir *staff.Directory, by string) error {
			pin, err := e.readPIN(pos[1])
			if err != nil {
				return err
			}
			if err := dir.ResetPIN(ctx, by, pos[1], pin); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "New PIN set for %s; any lockout ended and the login enabled.\n", pos[1])
			return nil
		})
	}
	return usage()
}

// withStaff opens the store and runs f with its staff directory and the
// actor the audit log names for this machine's user.
func (e *env) withStaff(ctx context.Context, f func(dir *staff.Directory, by string) error) int {
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	by := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		by = "cli:" + u.Username
	}
	if err := f(staff.New(st, staff.Options{Now: e.now, Logger: e.log}), by); err != nil {
		return e.fail("%v", err)
	}
	return exitOK
}

// readPIN reads login's PIN, one line of standard input.
func (e *env) readPIN(login string) (string, error) {
	fmt.Fprintf(e.stderr, "PIN for %s (%d to %d digits), then Enter: ", login, staff.MinPINDigits, staff.MaxPINDigits)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	fmt.Fprintln(e.stderr)
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("reading the PIN from standard input: %w", err)
	}
	pin := strings.TrimRight(line, "\r\n")
	if err := staff.CheckPIN(pin); err != nil {
		return "", err
	}
	return pin, nil
}
