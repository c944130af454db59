package staff

import (
	"errors"
	"fmt"
)

// Role is what a staff member may do. Each role may do what the one
// before it may, and more.
type Role string

// The roles.
const (
	// RoleStaff captures applications, views them and reprints receipts.
	RoleStaff Role = "staff"
	// RoleSupervisor also retries and re-queues quarantined applications,
	// exports a file and unlocks a member.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin also manages staff.
	RoleAdmin Role = "admin"
)

// Roles lists the roles, least first.
var Roles = []Role{RoleStaff, RoleSupervisor, RoleAdmin}

// ErrBadRole is returned (wrapped) for a role that is not one of Roles.
var ErrBadRole = errors.New("not a role: want staff, supervisor or admin")

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrBadRole, s)
}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

// Action is something a staff member does that a role allows or not.
type Action string

// The actions on a citizen's file and on staff.
const (
	Capture Action = "capture" // capture an application
	View    Action = "view"    // open an application
	Reprint Action = "reprint" // print a receipt again
	Retry   Action = "retry"   // deliver a failed application again
	Requeue Action = "requeue" // send a quarantined application back to the queue
	Export  Action = "export"  // export an application or the audit log
	Unlock  Action = "unlock"  // unlock a member locked out by failed PINs
	Manage  Action = "manage"  // add, disable and reset the PIN of staff
)

// least is the least role allowed each action.
var least = map[Action]Role{
	Capture: RoleStaff, View: RoleStaff, Reprint: RoleStaff,
	Retry: RoleSupervisor, Requeue: RoleSupervisor, Export: RoleSupervisor, Unlock: RoleSupervisor,
	Manage: RoleAdmin,
}

// Can reports whether role r allows action a. An unknown role or action
// allows nothing.
func (r Role) Can(a Action) bool {
	need, ok := least[a]
	return ok && r.rank() >= 0 && r.rank() >= need.rank()
}

// Label is the role's name on the counter's screens.
func (r Role) Label() string {
	switch r {
	case RoleStaff:
		return "Cán bộ"
	case RoleSupervisor:
		return "Giám sát"
	case RoleAdmin:
		return "Quản trị"
	}
	return string(r)
}
