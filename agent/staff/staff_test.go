package staff

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
)

// cheap are argon2id parameters that keep the tests quick; the hashing
// tests and the benchmark use DefaultParams.
var cheap = Params{Time: 1, Memory: 64, Threads: 1}

type rig struct {
	st     *store.Store
	dir    *Directory
	clock  time.Time
	alerts *alert.Monitor
}

func (r *rig) now() time.Time { return r.clock }

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{clock: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
	d := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(d, store.FileName), store.Options{Now: r.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := alert.LoadOrCreateKey(filepath.Join(d, alert.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.alerts, err = alert.New(st, key, alert.Options{}); err != nil {
		t.Fatal(err)
	}
	r.st = st
	r.dir = New(st, Options{Params: cheap, Alerts: r.alerts, Now: r.now})
	return r
}

// events returns the audit events of kind, in order.
func (r *rig) events(t *testing.T, kind string) []audit.Event {
	t.Helper()
	all, err := r.st.EventsBetween(context.Background(), r.clock.Add(-24*time.Hour), r.clock.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestHashAndVerifyPIN(t *testing.T) {
	h, err := HashPIN("482913", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(h, "482913") {
		t.Fatalf("hash %q: not argon2id with the default parameters, or it holds the PIN", h)
	}
	again, _ := HashPIN("482913", DefaultParams)
	if again == h {
		t.Error("two hashes of one PIN are the same: no fresh salt")
	}
	parts := strings.Split(h, "$")
	for _, tc := range []struct {
		name, hash, pin string
		ok              bool
		bad             bool
	}{
		{"right PIN", h, "482913", true, false},
		{"wrong PIN", h, "482914", false, false},
		{"prefix of the PIN", h, "48291", false, false},
		{"other salt", strings.Join(append(parts[:4:4], parts[4][:len(parts[4])-2]+"AA", parts[5]), "$"), "482913", false, false},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "482913", false, true},
		{"a gigabyte and more", strings.Replace(h, "m=65536", "m=2097152", 1), "482913", false, true},
		{"no key", strings.Join(parts[:5], "$"), "482913", false, true},
		{"plain text", "482913", "482913", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPIN(tc.hash, tc.pin)
			if (err != nil) != tc.bad {
				t.Fatalf("VerifyPIN error %v, want an error: %v", err, tc.bad)
			}
			if ok != tc.ok {
				t.Fatalf("VerifyPIN = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestCheckPIN(t *testing.T) {
	for pin, ok := range map[string]bool{
		"482913": true, "90817263": true, "123456": false, "987654": false, "111111": false, "890123": false,
		"48291": false, "4829134829134": false, "48291a": false, "４８２９１３": false, "": false,
	} {
		if err := CheckPIN(pin); (err == nil) != ok || err != nil && !errors.Is(err, ErrWeakPIN) {
			t.Errorf("CheckPIN(%q) = %v, want ok %v", pin, err, ok)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role    Role
		allowed []Action
		refused []Action
	}{
		{RoleStaff, []Action{Capture, View, Reprint}, []Action{Retry, Requeue, Export, Unlock, Manage}},
		{RoleSupervisor, []Action{Capture, View, Reprint, Retry, Requeue, Export, Unlock}, []Action{Manage}},
		{RoleAdmin, []Action{Capture, View, Reprint, Retry, Requeue, Export, Unlock, Manage}, nil},
		{Role("root"), nil, []Action{Capture, View, Manage}},
	} {
		for _, a := range tc.allowed {
			if !tc.role.Can(a) {
				t.Errorf("%s may not %s", tc.role, a)
			}
		}
		for _, a := range tc.refused {
			if tc.role.Can(a) {
				t.Errorf("%s may %s", tc.role, a)
			}
			m := Member{ID: 7, Login: "x", Role: tc.role}
			var ie *i18n.Error
			if err := m.Check(a); !errors.Is(err, ErrForbidden) || !errors.As(err, &ie) {
				t.Errorf("%s Check(%s) = %v, want an *i18n.Error wrapping ErrForbidden", tc.role, a, err)
			}
		}
	}
	if (Member{Role: RoleAdmin, Disabled: true}).Can(View) {
		t.Error("a disabled admin may view")
	}
}

// Five wrong PINs in a row lock a member out for 15 minutes: even the
// right PIN is refused meanwhile; each failure is audited with the
// member's id and signalled to the early warning, which raises a
// FailedPIN alert; after 15 minutes the right PIN works and the count
// starts again.
func TestLockoutAfterFiveFailures(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m, err := r.dir.Add(ctx, "cli", "lan", "Nguyễn Thị Lan", RoleStaff, "482913")
	if err != nil {
		t.Fatal(err)
	}
	// The numbers, not the constants: 5 failures, 15 minutes.
	const failures, lockout = 5, 15 * time.Minute
	for i := 1; i <= failures; i++ {
		r.clock = r.clock.Add(time.Second)
		_, err := r.dir.Login(ctx, "lan", "000000")
		want := ErrBadPIN
		if i == failures {
			want = ErrLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("failure %d: %v, want %v", i, err, want)
		}
	}
	r.clock = r.clock.Add(lockout - time.Minute)
	if _, err := r.dir.Login(ctx, "lan", "482913"); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right PIN while locked: %v, want ErrLocked", err)
	}
	failed := r.events(t, KindLoginFailed)
	if len(failed) != failures+1 {
		t.Fatalf("%d failed logins audited, want %d", len(failed), failures+1)
	}
	for _, e := range failed {
		if e.Actor != m.Actor() || !strings.Contains(e.Detail, `"login":"lan"`) || strings.Contains(e.Detail, "000000") {
			t.Errorf("failed login audited as %q %q, want actor %q, the login and never the PIN", e.Actor, e.Detail, m.Actor())
		}
	}
	if n := len(r.events(t, KindLocked)); n != 1 {
		t.Errorf("%d lockouts audited, want 1", n)
	}
	alerts, err := r.alerts.Current(ctx, r.clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Kind != alert.FailedPIN || alerts[0].Subject != "lan" {
		t.Errorf("alerts %+v, want one FailedPIN for lan", alerts)
	}

	r.clock = r.clock.Add(time.Minute)
	got, err := r.dir.Login(ctx, "lan", "482913")
	if err != nil {
		t.Fatalf("the right PIN after the lockout: %v", err)
	}
	if got.ID != m.ID || got.Role != RoleStaff {
		t.Errorf("logged in as %+v", got)
	}
	if ev := r.events(t, KindLogin); len(ev) != 1 || ev[0].Actor != m.Actor() {
		t.Errorf("logins audited %+v, want one by %s", ev, m.Actor())
	}
	// The count started again: four failures do not lock.
	for range failures - 1 {
		if _, err := r.dir.Login(ctx, "lan", "000000"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("after a good login: %v, want ErrBadPIN", err)
		}
	}
	if _, err := r.dir.Login(ctx, "lan", "482913"); err != nil {
		t.Fatalf("four failures locked the member: %v", err)
	}
}

// A supervisor unlocks a member before the 15 minutes; a staff member
// may not.
func TestSupervisorUnlocks(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.dir.Add(ctx, "cli", "lan", "Lan", RoleStaff, "482913"); err != nil {
		t.Fatal(err)
	}
	sup, err := r.dir.Add(ctx, "cli", "hung", "Hùng", RoleSupervisor, "739102")
	if err != nil {
		t.Fatal(err)
	}
	for range MaxFailures {
		_, _ = r.dir.Login(ctx, "lan", "000000")
	}
	if err := r.dir.Unlock(ctx, Member{ID: 9, Login: "x", Role: RoleStaff}, "lan"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a staff member unlocked: %v", err)
	}
	if err := r.dir.Unlock(ctx, sup, "lan"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dir.Login(ctx, "lan", "482913"); err != nil {
		t.Fatalf("after the supervisor's unlock: %v", err)
	}
	if ev := r.events(t, KindAdmin); len(ev) != 3 || ev[2].Actor != sup.Actor() || !strings.Contains(ev[2].Detail, "unlock") {
		t.Errorf("admin events %+v, want the unlock by %s last", ev, sup.Actor())
	}
}

// An unknown login, a disabled member and a weak PIN are refused; a reset
// PIN works and the old one does not.
func TestDisableResetAndUnknown(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.dir.Add(ctx, "cli", "lan", "Lan", RoleStaff, "123456"); !errors.Is(err, ErrWeakPIN) {
		t.Fatalf("a run of digits as PIN: %v", err)
	}
	if _, err := r.dir.Add(ctx, "cli", "lan", "Lan", RoleStaff, "482913"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dir.Add(ctx, "cli", "lan", "Lan B", RoleStaff, "482913"); !errors.Is(err, store.ErrDuplicateLogin) {
		t.Fatalf("a second lan: %v", err)
	}
	if _, err := r.dir.Login(ctx, "nobody", "482913"); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("unknown login: %v, want ErrBadPIN", err)
	}
	if err := r.dir.Disable(ctx, "cli", "lan"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dir.Login(ctx, "lan", "482913"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled: %v", err)
	}
	if act, _ := r.dir.Active(ctx); len(act) != 0 {
		t.Errorf("active %+v, want none", act)
	}
	if err := r.dir.ResetPIN(ctx, "cli", "lan", "530871"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dir.Login(ctx, "lan", "482913"); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("old PIN after reset: %v", err)
	}
	if _, err := r.dir.Login(ctx, "lan", "530871"); err != nil {
		t.Fatalf("new PIN after reset: %v", err)
	}
	if err := r.dir.Disable(ctx, "cli", "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable an unknown login: %v", err)
	}
}

// A shift warns after 29 minutes without input and ends at 30; input
// starts the idle time again.
func TestShiftIdleWarnsAt29AndEndsAt30(t *testing.T) {
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s := NewShift(Member{ID: 1}, start)
	for _, tc := range []struct {
		after time.Duration
		want  Phase
		left  time.Duration
	}{
		{0, Active, 30 * time.Minute},
		{28*time.Minute + 59*time.Second, Active, time.Minute + time.Second},
		{29 * time.Minute, Warned, time.Minute},
		{29*time.Minute + 59*time.Second, Warned, time.Second},
		{30 * time.Minute, Expired, 0},
	} {
		if got, left := s.Check(start.Add(tc.after)); got != tc.want || left != tc.left {
			t.Errorf("after %s: phase %d, %s left; want %d, %s", tc.after, got, left, tc.want, tc.left)
		}
	}
	s.Touch(start.Add(29*time.Minute + 30*time.Second))
	if got, _ := s.Check(start.Add(30 * time.Minute)); got != Active {
		t.Errorf("after input in the warning, phase %d, want active", got)
	}
	if got, _ := s.Check(start.Add(59*time.Minute + 30*time.Second)); got != Expired {
		t.Errorf("30 minutes after the last input, phase %d, want expired", got)
	}
}

func BenchmarkHashPIN(b *testing.B) {
	for b.Loop() {
		if _, err := HashPIN("482913", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}
