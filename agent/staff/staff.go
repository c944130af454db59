// Package staff is who works at the counter and the staff console: staff
// members with a role (staff, supervisor, admin) and a PIN kept only as
// its argon2id hash, logins with a lockout after repeated failures, and
// the idle end of a shift. Every login, failure, lockout and change to a
// member goes in the audit log with the member's id; agent/kiosk audits
// the actions on a citizen's file the same way.
package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
)

// Sentinel errors, returned wrapped; those a login screen shows are
// *i18n.Error values that wrap them.
var (
	// ErrBadPIN: the PIN does not match, or no active member has that
	// login (the two are not told apart).
	ErrBadPIN = errors.New("wrong login or PIN")
	// ErrLocked: too many failed PINs; the member is locked out for a
	// while.
	ErrLocked = errors.New("locked out after failed PINs")
	// ErrDisabled: the member was disabled by an admin.
	ErrDisabled = errors.New("staff member disabled")
	// ErrForbidden: the member's role does not allow the action.
	ErrForbidden = errors.New("not allowed for this role")
	// ErrNotFound: no member has that login.
	ErrNotFound = errors.New("no such staff member")
)

// MaxFailures failed PINs in a row lock a member out for LockoutFor, or
// until a supervisor unlocks them or an admin resets their PIN.
const (
	MaxFailures = 5
	LockoutFor  = 15 * time.Minute
)

// Audit event kinds, all with the member as actor ("staff:ID") except a
// failure for an unknown login.
const (
	KindLogin       = "staff_login"        // a member logged in
	KindLoginFailed = "staff_login_failed" // a wrong PIN, or a login while locked or disabled
	KindLocked      = "staff_locked"       // the failure that locked a member out
	KindLogout      = "staff_logout"       // a member logged out, or the shift ended idle
	KindAdmin       = "staff_admin"        // a member added, disabled, unlocked or given a new PIN
	KindView        = "view"               // a member opened an application
	KindReprint     = "reprint"            // a member printed a receipt again
	KindExport      = "export"             // a member exported an application
	KindDenied      = "denied"             // a member's role refused an action
)

// Member is a staff member as the rest of the agent sees one: never the
// PIN's hash.
type Member struct {
	ID       int64
	Login    string
	Name     string
	Role     Role
	Disabled bool
	// LockedUntil is when a lockout ends; zero or past: not locked.
	LockedUntil time.Time
}

// Actor is how the audit log names the member: "staff:ID".
func (m Member) Actor() string { return "staff:" + strconv.FormatInt(m.ID, 10) }

// Can reports whether the member's role allows a.
func (m Member) Can(a Action) bool { return !m.Disabled && m.Role.Can(a) }

// Check returns an error wrapping ErrForbidden, with a message for the
// screen, unless the member may do a.
func (m Member) Check(a Action) error {
	if m.Can(a) {
		return nil
	}
	return &i18n.Error{Code: "forbidden", Msg: i18n.Tf("Vai trò %s không được phép làm việc này",
		"the %s role may not %s", m.Role.Label(), string(a)), Err: fmt.Errorf("%s (%s) may not %s: %w", m.Login, m.Role, a, ErrForbidden)}
}

// Options configure a Directory.
type Options struct {
	Params Params           // zero: DefaultParams
	Alerts *alert.Monitor   // nil: failures raise no early warning
	Now    func() time.Time // nil: time.Now; the lockout's clock
	Logger *slog.Logger     // nil: discard
}

// Directory is the staff of one kiosk, kept in its store.
type Directory struct {
	st     *store.Store
	params Params
	alerts *alert.Monitor
	now    func() time.Time
	log    *slog.Logger
}

// dummyHash is checked against when the login is unknown, so that an
// unknown login takes as long as a wrong PIN (DefaultParams).
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$3f5DtsVhReEPt3oGc0d6jA$d+yFqKjYsd6pw8q8GSo5vNQDs67qbvGh+CGWPGsX3YE"

// New returns the directory of st's staff.
func New(st *store.Store, opts Options) *Directory {
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Directory{st: st, params: opts.Params, alerts: opts.Alerts, now: opts.Now, log: opts.Logger}
}

func member(r store.StaffRecord) Member {
	return Member{ID: r.ID, Login: r.Login, Name: r.Name, Role: Role(r.Role), Disabled: r.Disabled, LockedUntil: r.LockedUntil}
}

func detail(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	return string(b)
}

// CheckLogin returns an error unless login is 1 to 32 lowercase ASCII
// letters, digits, dots, dashes or underscores.
func CheckLogin(login string) error {
	if login == "" || len(login) > 32 {
		return fmt.Errorf("login %q: want 1 to 32 characters", login)
	}
	for _, r := range login {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return fmt.Errorf("login %q: %q is not a lowercase letter, digit, '.', '-' or '_'", login, r)
		}
	}
	return nil
}

// Add adds a member with login, name, role and pin, the audit event
// naming by as the one who added them ("cli" at the machine itself, or an
// admin's Actor), and returns them.
func (d *Directory) Add(ctx context.Context, by, login, name string, role Role, pin string) (Member, error) {
	if err := CheckLogin(login); err != nil {
		return Member{}, err
	}
	if strings.TrimSpace(name) == "" {
		return Member{}, fmt.Errorf("staff %q: the name is empty", login)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Member{}, err
	}
	if err := CheckPIN(pin); err != nil {
		return Member{}, fmt.Errorf("staff %q: %w", login, err)
	}
	h, err := HashPIN(pin, d.params)
	if err != nil {
		return Member{}, err
	}
	r := store.StaffRecord{Login: login, Name: strings.TrimSpace(name), Role: string(role), PINHash: h}
	id, err := d.st.AddStaff(ctx, r, audit.Event{Kind: KindAdmin, Actor: by,
		Detail: detail(map[string]any{"action": "add", "login": login, "role": role})})
	if err != nil {
		return Member{}, err
	}
	r.ID = id
	d.log.Info("staff member added", "login", login, "role", role, "id", id, "by", by)
	return member(r), nil
}

// List returns every member, disabled ones included, by login.
func (d *Directory) List(ctx context.Context) ([]Member, error) {
	recs, err := d.st.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(recs))
	for i, r := range recs {
		out[i] = member(r)
	}
	return out, nil
}

// Active returns the members who may log in (not disabled), by login.
func (d *Directory) Active(ctx context.Context) ([]Member, error) {
	all, err := d.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, m := range all {
		if !m.Disabled {
			out = append(out, m)
		}
	}
	return out, nil
}

func (d *Directory) record(ctx context.Context, login string) (*store.StaffRecord, error) {
	r, err := d.st.StaffByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, login)
	}
	return r, err
}

// Disable disables login's member: they can no longer log in. by is as
// for Add.
func (d *Directory) Disable(ctx context.Context, by, login string) error {
	r, err := d.record(ctx, login)
	if err != nil {
		return err
	}
	r.Disabled = true
	return d.st.UpdateStaff(ctx, *r, audit.Event{Kind: KindAdmin, Actor: by,
		Detail: detail(map[string]any{"action": "disable", "login": login, "staff": r.ID})})
}

// DisableAs disables login's member from the staff screens: by must be an
// admin, and may not disable themselves (the last admin would lock the
// counter).
func (d *Directory) DisableAs(ctx context.Context, by Member, login string) error {
	if err := by.Check(Manage); err != nil {
		return err
	}
	if by.Login == login {
		return &i18n.Error{Code: "disable_self", Msg: i18n.T("Không thể tự khoá tài khoản của mình",
			"you may not disable your own login"), Err: fmt.Errorf("%s may not disable themselves: %w", login, ErrForbidden)}
	}
	return d.Disable(ctx, by.Actor(), login)
}

// ResetPIN gives login's member a new PIN, enables them again and ends
// any lockout. by is as for Add.
func (d *Directory) ResetPIN(ctx context.Context, by, login, pin string) error {
	if err := CheckPIN(pin); err != nil {
		return fmt.Errorf("staff %q: %w", login, err)
	}
	r, err := d.record(ctx, login)
	if err != nil {
		return err
	}
	if r.PINHash, err = HashPIN(pin, d.params); err != nil {
		return err
	}
	r.Disabled, r.Failures, r.LockedUntil = false, 0, time.Time{}
	return d.st.UpdateStaff(ctx, *r, audit.Event{Kind: KindAdmin, Actor: by,
		Detail: detail(map[string]any{"action": "reset-pin", "login": login, "staff": r.ID})})
}

// Unlock ends login's lockout before its time; by must be a supervisor
// or an admin.
func (d *Directory) Unlock(ctx context.Context, by Member, login string) error {
	if err := by.Check(Unlock); err != nil {
		return err
	}
	r, err := d.record(ctx, login)
	if err != nil {
		return err
	}
	r.Failures, r.LockedUntil = 0, time.Time{}
	return d.st.UpdateStaff(ctx, *r, audit.Event{Kind: KindAdmin, Actor: by.Actor(),
		Detail: detail(map[string]any{"action": "unlock", "login": login, "staff": r.ID})})
}

// Login checks login's PIN and returns the member. A wrong PIN counts a
// failure (audited, and signalled to the early warning as alert.FailedPIN
// with the login as subject); the fifth in a row locks the member out for
// LockoutFor. While locked, or when disabled, the PIN is not even checked.
// The errors a screen shows are *i18n.Error values wrapping ErrBadPIN,
// ErrLocked or ErrDisabled; an unknown login is told as a wrong PIN.
func (d *Directory) Login(ctx context.Context, login, pin string) (Member, error) {
	now := d.now()
	r, err := d.record(ctx, login)
	if errors.Is(err, ErrNotFound) {
		d.verifyDummy(pin)
		d.signal(ctx, login)
		if aerr := d.st.AppendAudit(ctx, audit.Event{Kind: KindLoginFailed, Actor: "login",
			Detail: detail(map[string]any{"login": login, "reason": "unknown login"})}); aerr != nil {
			return Member{}, aerr
		}
		return Member{}, badPIN(0, fmt.Errorf("login %q: %w: %w", login, ErrBadPIN, err))
	}
	if err != nil {
		return Member{}, err
	}
	m := member(*r)
	refuse := func(reason string, e error) (Member, error) {
		d.signal(ctx, login)
		if aerr := d.st.AppendAudit(ctx, audit.Event{Kind: KindLoginFailed, Actor: m.Actor(),
			Detail: detail(map[string]any{"login": login, "reason": reason})}); aerr != nil {
			return Member{}, aerr
		}
		return Member{}, e
	}
	switch {
	case r.Disabled:
		return refuse("disabled", &i18n.Error{Code: "staff_disabled", Msg: i18n.T(
			"Tài khoản này đã bị khoá; hãy nhờ quản trị viên", "this login is disabled; ask an admin"),
			Err: fmt.Errorf("login %q: %w", login, ErrDisabled)})
	case now.Before(r.LockedUntil):
		return refuse("locked", locked(r.LockedUntil, fmt.Errorf("login %q until %s: %w", login, r.LockedUntil.Format(time.RFC3339), ErrLocked)))
	}
	ok, err := VerifyPIN(r.PINHash, pin)
	if err != nil {
		return Member{}, fmt.Errorf("login %q: stored PIN hash: %w", login, err)
	}
	if !ok {
		d.signal(ctx, login)
		n, until, err := d.st.StaffFailure(ctx, r.ID, MaxFailures, LockoutFor, audit.Event{Kind: KindLoginFailed,
			Actor: m.Actor(), Detail: detail(map[string]any{"login": login, "reason": "wrong PIN"})})
		if err != nil {
			return Member{}, err
		}
		if !until.IsZero() {
			d.log.Warn("staff member locked out after failed PINs", "login", login, "failures", n, "until", until)
			if err := d.st.AppendAudit(ctx, audit.Event{Kind: KindLocked, Actor: m.Actor(),
				Detail: detail(map[string]any{"login": login, "failures": n, "until": until.UTC().Format(time.RFC3339)})}); err != nil {
				return Member{}, err
			}
			return Member{}, locked(until, fmt.Errorf("login %q: %d failed PINs: %w", login, n, ErrLocked))
		}
		return Member{}, badPIN(MaxFailures-n, fmt.Errorf("login %q: %w", login, ErrBadPIN))
	}
	r.Failures, r.LockedUntil = 0, time.Time{}
	if err := d.st.UpdateStaff(ctx, *r, audit.Event{Kind: KindLogin, Actor: m.Actor(),
		Detail: detail(map[string]any{"login": login, "role": r.Role})}); err != nil {
		return Member{}, err
	}
	d.log.Info("staff login", "login", login, "staff", r.ID, "role", r.Role)
	return member(*r), nil
}

// Logout ends m's shift in the audit log; why is "logout" or "idle".
func (d *Directory) Logout(ctx context.Context, m Member, why string) error {
	d.log.Info("staff logout", "login", m.Login, "staff", m.ID, "why", why)
	return d.st.AppendAudit(ctx, audit.Event{Kind: KindLogout, Actor: m.Actor(),
		Detail: detail(map[string]any{"login": m.Login, "why": why})})
}

// signal tells the early warning about a failed PIN for login.
func (d *Directory) signal(ctx context.Context, login string) {
	if d.alerts == nil {
		return
	}
	if _, err := d.alerts.Record(ctx, alert.FailedPIN, login); err != nil {
		d.log.Error("early warning: failed PIN not recorded", "login", login, "err", err)
	}
}

// verifyDummy spends on pin what a real check would.
func (d *Directory) verifyDummy(pin string) { _, _ = VerifyPIN(dummyHash, pin) }

func badPIN(left int, err error) error {
	msg := i18n.T("Sai mã PIN", "wrong PIN")
	if left > 0 {
		msg = i18n.Tf("Sai mã PIN; còn %d lần thử trước khi bị khoá %d phút", "wrong PIN; %d tries left before a %d-minute lockout",
			left, int(LockoutFor/time.Minute))
	}
	return &i18n.Error{Code: "bad_pin", Msg: msg, Err: err}
}

func locked(until time.Time, err error) error {
	return &i18n.Error{Code: "staff_locked", Msg: i18n.Tf(
		"Nhập sai mã PIN quá %d lần: tài khoản bị khoá đến %s, hoặc đến khi giám sát viên mở khoá",
		"more than %d wrong PINs: locked until %s, or until a supervisor unlocks it",
		MaxFailures-1, until.Local().Format("15:04")), Err: err}
}
