// Package application holds the application aggregate, what a citizen
// submits for one procedure, and its lifecycle as an explicit state machine.
package application

import (
	"errors"
	"fmt"

	"github.com/motcua/motcua/agent/i18n"
)

// State is where an application stands in its lifecycle.
type State string

// The lifecycle: draft -> ready -> queued -> sending -> received -> in review
// -> done | needs more | rejected.
const (
	Draft     State = "draft"      // being captured; may be incomplete
	Ready     State = "ready"      // validated, evidence complete
	Queued    State = "queued"     // in the outbox, waiting for the link
	Sending   State = "sending"    // being delivered to the portal
	Received  State = "received"   // the portal issued a file code
	InReview  State = "in_review"  // an officer is processing it
	Done      State = "done"       // result issued
	NeedsMore State = "needs_more" // the officer asks for more documents
	Rejected  State = "rejected"   // refused, with the officer's reason
	// Quarantined applications were refused by the portal as malformed; they
	// wait for staff, out of the way of the others.
	Quarantined State = "quarantined"
)

// States lists every state in lifecycle order.
var States = []State{Draft, Ready, Queued, Sending, Received, InReview, Done, NeedsMore, Rejected, Quarantined}

// ErrIllegalTransition is returned (wrapped) for a state change the lifecycle
// does not allow.
var ErrIllegalTransition = errors.New("illegal state transition")

// ErrUnknownState is returned (wrapped) for a state name that is not part of
// the lifecycle.
var ErrUnknownState = errors.New("unknown application state")

// transitions lists, for each state, the states it may move to.
var transitions = map[State][]State{
	Draft: {Ready},
	// A ready application may be reopened for editing before it is queued.
	Ready:  {Queued, Draft},
	Queued: {Sending},
	// A failed or cut delivery goes back to the queue; the portal may answer
	// the manifest with a file code at once, or refuse it as malformed.
	Sending: {Queued, Received, Quarantined},
	// Staff send a quarantined application again once it is fixed.
	Quarantined: {Queued},
	// The portal may decide without a separate review step.
	Received: {InReview, Done, NeedsMore, Rejected},
	InReview: {Done, NeedsMore, Rejected},
	// After the citizen supplies what was asked, the file goes back to the
	// officer; the portal may also close it.
	NeedsMore: {InReview, Done, Rejected},
	Done:      nil,
	Rejected:  nil,
}

// ParseState returns the State named s.
func ParseState(s string) (State, error) {
	st := State(s)
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownState, s)
	}
	return st, nil
}

// Valid reports whether s is a state of the lifecycle.
func (s State) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool { return s.Valid() && len(transitions[s]) == 0 }

// Next returns the states s may move to.
func (s State) Next() []State { return append([]State(nil), transitions[s]...) }

// CanMoveTo reports whether the lifecycle allows moving from s to t.
func (s State) CanMoveTo(t State) bool {
	for _, n := range transitions[s] {
		if n == t {
			return true
		}
	}
	return false
}

// Transition checks the move from s to t and returns a wrapped
// ErrIllegalTransition or ErrUnknownState when it is not allowed.
func Transition(from, to State) error {
	if !from.Valid() {
		return fmt.Errorf("%w: %q", ErrUnknownState, from)
	}
	if !to.Valid() {
		return fmt.Errorf("%w: %q", ErrUnknownState, to)
	}
	if !from.CanMoveTo(to) {
		return fmt.Errorf("%w: %s -> %s", ErrIllegalTransition, from, to)
	}
	return nil
}

// FromPortal reports whether s is decided by the portal rather than by the
// agent: the states an application reaches once the portal has it.
func (s State) FromPortal() bool {
	switch s {
	case Received, InReview, Done, NeedsMore, Rejected:
		return true
	}
	return false
}

// Label is the state's name for citizens and staff.
func (s State) Label() i18n.Text {
	switch s {
	case Draft:
		return i18n.T("Đang soạn", "Draft")
	case Ready:
		return i18n.T("Sẵn sàng gửi", "Ready")
	case Queued:
		return i18n.T("Chờ gửi", "Queued")
	case Sending:
		return i18n.T("Đang gửi", "Sending")
	case Received:
		return i18n.T("Đã tiếp nhận", "Received")
	case InReview:
		return i18n.T("Đang xử lý", "In review")
	case Done:
		return i18n.T("Đã có kết quả", "Done")
	case NeedsMore:
		return i18n.T("Cần bổ sung", "Needs more documents")
	case Rejected:
		return i18n.T("Bị từ chối", "Rejected")
	case Quarantined:
		return i18n.T("Bị giữ lại, cần nhân viên kiểm tra", "Quarantined: staff must check it")
	}
	return i18n.T(string(s), string(s))
}

// Path returns the shortest sequence of legal moves from from to to (not
// including from), or nil when to cannot be reached. It lets a status that
// skips steps, such as a portal reporting "done" for a file still marked
// queued here, be applied through the states in between.
func Path(from, to State) []State {
	if from == to || !from.Valid() || !to.Valid() {
		return nil
	}
	prev := map[State]State{from: from}
	queue := []State{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range transitions[s] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = s
			if n == to {
				var path []State
				for at := to; at != from; at = prev[at] {
					path = append([]State{at}, path...)
				}
				return path
			}
			queue = append(queue, n)
		}
	}
	return nil
}
