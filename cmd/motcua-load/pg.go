//go:build load

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/pgtest"
)

// pgServer is a PostgreSQL server the load test starts for the portals'
// records. Unlike internal/pgtest's throwaway server (no fsync), it keeps
// PostgreSQL's durable defaults (fsync, synchronous_commit, full page
// writes), as a province's server would: SQLite's numbers are measured
// with synchronous=FULL, so the two are compared on equal terms.
type pgServer struct {
	url  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startPostgres initialises a cluster under dir and starts it on a free
// loopback port, as motcua-test or nobody when run as root (PostgreSQL
// refuses root), and creates the database motcua.
func startPostgres(ctx context.Context, dir string, maxConns int) (*pgServer, error) {
	bin, err := pgtest.BinDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		var u *user.User
		for _, name := range []string{"motcua-test", "nobody"} {
			if u, err = user.Lookup(name); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: no user motcua-test or nobody to run it as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("postgres: initdb: %w\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
		"-c", "max_connections="+strconv.Itoa(maxConns), "-c", "shared_buffers=256MB")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &pgServer{dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(time.Minute)
	for {
		db, err := pgdb.Connect(ctx, admin)
		if err == nil {
			_, err = db.ExecContext(ctx, "CREATE DATABASE motcua")
			db.Close()
			if err != nil {
				s.stop()
				return nil, fmt.Errorf("postgres: create database: %w", err)
			}
			break
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("postgres exited at start; see %s", logf.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %w", err)
		}
	}
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/motcua?sslmode=disable", port)
	return s, nil
}

// pid is the postmaster's process id.
func (s *pgServer) pid() int { return s.cmd.Process.Pid }

// stop stops the server with a fast shutdown.
func (s *pgServer) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
