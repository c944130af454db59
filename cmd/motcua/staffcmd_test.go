package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/store"
)

// The first admin is made with `motcua staff add --role admin` on the
// machine, the PIN read from standard input: the PIN logs in and is
// nowhere in the database or the output; a weak PIN, a bad role and a
// taken login are refused naming what is wrong; disable and reset-pin
// work; every change is in the audit log with the machine's user.
func TestStaffCommandManagesLogins(t *testing.T) {
	data := t.TempDir()
	r := cli(t, data, "482913\n", "staff", "add", "--role", "admin", "--login", "admin", "--name", "Quản trị viên")
	if r.code != 0 || !strings.Contains(r.stdout, "staff id 1") {
		t.Fatalf("add admin: %+v", r)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"123456\n", []string{"add", "--login", "lan", "--name", "Lan"}, exitFail, "run of digits"},
		{"482913\n", []string{"add", "--login", "lan", "--name", "Lan", "--role", "root"}, exitUsage, "not a role"},
		{"482913\n", []string{"add", "--login", "Lan Anh", "--name", "Lan"}, exitUsage, "--login"},
		{"530871\n", []string{"add", "--login", "admin", "--name", "Other"}, exitFail, "already used"},
		{"", []string{"disable", "ghost"}, exitFail, "no such staff member"},
		{"", []string{"frobnicate"}, exitUsage, "usage"},
	} {
		r := cli(t, data, tc.stdin, append([]string{"staff"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("staff %v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if r := cli(t, data, "530871\n", "staff", "add", "--login", "lan", "--name", "Nguyễn Thị Lan"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "staff", "disable", "lan"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = cli(t, data, "", "staff", "list")
	if !strings.Contains(r.stdout, "Nguyễn Thị Lan") || !strings.Contains(r.stdout, "disabled") || strings.Contains(r.stdout, "530871") {
		t.Fatalf("list: %s", r.stdout)
	}
	if r := cli(t, data, "739102\n", "staff", "reset-pin", "lan"); r.code != 0 {
		t.Fatal(r.stderr)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := staff.New(st, staff.Options{})
	if m, err := dir.Login(ctx, "admin", "482913"); err != nil || m.Role != staff.RoleAdmin {
		t.Fatalf("the admin's login: %+v, %v", m, err)
	}
	if _, err := dir.Login(ctx, "lan", "739102"); err != nil {
		t.Fatalf("lan's reset PIN: %v", err)
	}
	recs, _ := st.ListStaff(ctx)
	for _, rec := range recs {
		if strings.Contains(rec.PINHash, "482913") || !strings.HasPrefix(rec.PINHash, "$argon2id$") {
			t.Errorf("stored PIN of %s: %q", rec.Login, rec.PINHash)
		}
	}
	evs, err := st.EventsBetween(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	admin := 0
	for _, e := range evs {
		if e.Kind == staff.KindAdmin {
			admin++
			if !strings.HasPrefix(e.Actor, "cli") {
				t.Errorf("staff change audited by %q, want the machine's user", e.Actor)
			}
		}
	}
	if admin != 4 { // add admin, add lan, disable, reset-pin
		t.Errorf("%d staff changes audited, want 4", admin)
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify: %+v", r)
	}
}
