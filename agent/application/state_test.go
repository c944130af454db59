package application

import (
	"errors"
	"fmt"
	"testing"
)

func TestTransition(t *testing.T) {
	legal := map[[2]State]bool{
		{Draft, Ready}:         true,
		{Ready, Queued}:        true,
		{Ready, Draft}:         true,
		{Queued, Sending}:      true,
		{Sending, Queued}:      true,
		{Sending, Received}:    true,
		{Received, InReview}:   true,
		{Received, Done}:       true,
		{Received, NeedsMore}:  true,
		{Received, Rejected}:   true,
		{InReview, Done}:       true,
		{InReview, NeedsMore}:  true,
		{InReview, Rejected}:   true,
		{NeedsMore, InReview}:  true,
		{NeedsMore, Done}:      true,
		{NeedsMore, Rejected}:  true,
		{Sending, Quarantined}: true,
		{Quarantined, Queued}:  true,
	}
	// Every ordered pair of states is either in the table above or refused.
	for _, from := range States {
		for _, to := range States {
			err := Transition(from, to)
			want := legal[[2]State{from, to}]
			if want && err != nil {
				t.Errorf("Transition(%s, %s) = %v, want nil", from, to, err)
			}
			if !want && !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("Transition(%s, %s) = %v, want ErrIllegalTransition", from, to, err)
			}
		}
	}
}

func TestTransitionUnknownState(t *testing.T) {
	tests := []struct{ from, to State }{
		{"", Ready},
		{Draft, "sent"},
		{"DRAFT", Ready},
	}
	for _, tt := range tests {
		if err := Transition(tt.from, tt.to); !errors.Is(err, ErrUnknownState) {
			t.Errorf("Transition(%q, %q) = %v, want ErrUnknownState", tt.from, tt.to, err)
		}
	}
}

func TestTerminal(t *testing.T) {
	for _, s := range States {
		want := s == Done || s == Rejected
		if got := s.Terminal(); got != want {
			t.Errorf("%s.Terminal() = %v, want %v", s, got, want)
		}
	}
}

func TestParseState(t *testing.T) {
	for _, s := range States {
		got, err := ParseState(string(s))
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
		if l := s.Label(); l.VI == "" || l.EN == "" || l.VI == string(s) {
			t.Errorf("%s has no bilingual label: %+v", s, l)
		}
	}
	if _, err := ParseState("archived"); !errors.Is(err, ErrUnknownState) {
		t.Errorf("ParseState(archived) = %v, want ErrUnknownState", err)
	}
}

// Every state but draft is reachable from draft, and every path ends in a
// terminal state: the lifecycle has no dead ends.
func TestLifecycleReachability(t *testing.T) {
	seen := map[State]bool{Draft: true}
	work := []State{Draft}
	for len(work) > 0 {
		s := work[0]
		work = work[1:]
		for _, n := range s.Next() {
			if !seen[n] {
				seen[n] = true
				work = append(work, n)
			}
		}
	}
	for _, s := range States {
		if !seen[s] {
			t.Errorf("state %s is unreachable from draft", s)
		}
		if !s.Terminal() && len(s.Next()) == 0 {
			t.Errorf("state %s has no way out", s)
		}
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		from, to State
		want     []State
	}{
		{Queued, Received, []State{Sending, Received}},
		{Queued, Done, []State{Sending, Received, Done}},
		{Sending, InReview, []State{Received, InReview}},
		{Draft, Queued, []State{Ready, Queued}},
		{Done, Queued, nil},
		{Received, Received, nil},
		{InReview, Sending, nil},
	}
	for _, tt := range tests {
		got := Path(tt.from, tt.to)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Path(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
		from := tt.from
		for _, s := range got {
			if err := Transition(from, s); err != nil {
				t.Errorf("Path(%s, %s) takes an illegal step: %v", tt.from, tt.to, err)
			}
			from = s
		}
	}
}
