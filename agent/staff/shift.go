package staff

import "time"

// IdleEnd is how long a shift lasts without input before it ends, and
// IdleWarning how long before that end the screen warns.
const (
	IdleEnd     = 30 * time.Minute
	IdleWarning = time.Minute
)

// Phase is where a shift is in its idle time.
type Phase int

// The phases.
const (
	Active  Phase = iota // in use
	Warned               // idle for IdleEnd-IdleWarning or more: the screen asks
	Expired              // idle for IdleEnd or more: the shift is over
)

// Shift is one member's time logged in at a window. It holds no lock:
// the screen that owns it calls it from one goroutine.
type Shift struct {
	Member Member
	Start  time.Time
	last   time.Time
}

// NewShift starts m's shift at now.
func NewShift(m Member, now time.Time) *Shift { return &Shift{Member: m, Start: now, last: now} }

// Touch records input at now: the idle time starts again.
func (s *Shift) Touch(now time.Time) {
	if now.After(s.last) {
		s.last = now
	}
}

// Check returns the shift's phase at now and how long is left before it
// ends (zero once expired).
func (s *Shift) Check(now time.Time) (Phase, time.Duration) {
	idle := now.Sub(s.last)
	left := IdleEnd - idle
	switch {
	case left <= 0:
		return Expired, 0
	case left <= IdleWarning:
		return Warned, left
	}
	return Active, left
}
