package loadtest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 down to 1: unsorted on purpose
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"p50 of 100 is the 50th", ms(hundred...), 50, 50 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tt.ds...)
			if got := Percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.ds, tt.p, got, tt.want)
			}
			for i := range before {
				if before[i] != tt.ds[i] {
					t.Fatalf("Percentile reordered its input: %v", tt.ds)
				}
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	apps := []App{{"d1", "k1", "A-1"}, {"d1", "k2", "A-2"}, {"d2", "k1", "A-3"}}
	filed := []Filed{{"d1", "k1", "A-1"}, {"d1", "k2", "A-2"}, {"d2", "k1", "A-3"}}
	tests := []struct {
		name  string
		apps  []App
		filed []Filed
		want  Tally
		ok    bool
	}{
		{"all once", apps, filed, Tally{Delivered: 3, Filed: 3}, true},
		// The same key from two devices is two applications.
		{"a key is per device", apps[:3], filed, Tally{Delivered: 3, Filed: 3}, true},
		{"lost", apps, filed[:2], Tally{Delivered: 3, Filed: 2, Lost: 1}, false},
		{"filed twice under two codes", apps, append(filed[:3:3], Filed{"d1", "k1", "A-4"}),
			Tally{Delivered: 3, Filed: 4, Doubled: 1}, false},
		{"one code for two applications", apps, []Filed{{"d1", "k1", "A-1"}, {"d1", "k2", "A-1"}, {"d2", "k1", "A-3"}},
			Tally{Delivered: 3, Filed: 3, Doubled: 1, Mismatched: 1}, false},
		{"filed under another code than the receipt's", apps, []Filed{{"d1", "k1", "A-1"}, {"d1", "k2", "A-9"}, {"d2", "k1", "A-3"}},
			Tally{Delivered: 3, Filed: 3, Mismatched: 1}, false},
		{"no receipt though filed", []App{{"d1", "k1", ""}}, filed[:1], Tally{Delivered: 1, Filed: 1, NoReceipt: 1}, false},
		// Without a receipt or a filing the kiosk still has it to send:
		// pending, not lost.
		{"neither receipt nor filing", []App{{"d1", "k1", ""}}, nil, Tally{Delivered: 1, NoReceipt: 1, Pending: 1}, false},
		{"a filing nobody delivered", apps[:2], filed, Tally{Delivered: 2, Filed: 3, Unknown: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reconcile(tt.apps, tt.filed)
			if got.OK() != tt.ok {
				t.Errorf("OK() = %v, want %v (%+v)", got.OK(), tt.ok, got)
			}
			if tt.ok != (len(got.Problems) == 0) {
				t.Errorf("problems %q for a tally that is OK=%v", got.Problems, tt.ok)
			}
			got.Problems = nil
			if got.Delivered != tt.want.Delivered || got.Filed != tt.want.Filed || got.Lost != tt.want.Lost ||
				got.Doubled != tt.want.Doubled || got.Mismatched != tt.want.Mismatched || got.Unknown != tt.want.Unknown ||
				got.NoReceipt != tt.want.NoReceipt || got.Pending != tt.want.Pending {
				t.Errorf("Reconcile = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReconcileNamesAtMostTwentyProblems(t *testing.T) {
	var apps []App
	for i := range 50 {
		apps = append(apps, App{"d", string(rune('a'+i%26)) + strings.Repeat("x", i/26), "C"})
	}
	got := Reconcile(apps, nil)
	if got.Lost != 50 || len(got.Problems) != maxProblems {
		t.Errorf("lost %d with %d problems named, want 50 and %d", got.Lost, len(got.Problems), maxProblems)
	}
	for i := range apps {
		apps[i].FileCode = ""
	}
	got = Reconcile(apps, nil)
	if got.Pending != 50 || got.NoReceipt != 50 || len(got.Problems) != maxProblems {
		t.Errorf("pending %d, no receipt %d, with %d problems named, want 50, 50 and %d", got.Pending, got.NoReceipt, len(got.Problems), maxProblems)
	}
}

func TestParseProc(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may
	// name itself.
	stat := []byte("4242 (motcua (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 12 0 100 0 0\n")
	cpu, err := ParseStat(stat)
	if err != nil || cpu != 3800*time.Millisecond {
		t.Errorf("ParseStat = %v, %v; want 3.8s (250 + 130 ticks)", cpu, err)
	}
	st, err := parseStat(stat)
	if err != nil || st.ppid != 1 || st.children != 0 {
		t.Errorf("parseStat = %+v, %v; want parent 1, no children's time", st, err)
	}
	st, err = parseStat([]byte("77 (postgres) S 1 77 77 0 -1 0 0 0 0 0 10 20 300 400 20 0 1 0 100 0 0\n"))
	if err != nil || st.ppid != 1 || st.cpu != 300*time.Millisecond || st.children != 7*time.Second {
		t.Errorf("parseStat of a postmaster = %+v, %v; want parent 1, 0.3 s own, 7 s of its ended children", st, err)
	}
	if _, err := ParseStat([]byte("4242 motcua S 1")); !errors.Is(err, ErrProcFormat) {
		t.Errorf("ParseStat of a line without a command name: %v, want ErrProcFormat", err)
	}
	status := []byte("Name:\tmotcua\nVmPeak:\t 900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t12\n")
	hwm, rss, err := ParseStatus(status)
	if err != nil || hwm != 50<<20 || rss != 40<<20 {
		t.Errorf("ParseStatus = %d, %d, %v; want 50 MiB and 40 MiB", hwm, rss, err)
	}
	if _, _, err := ParseStatus([]byte("Name:\tkthreadd\n")); !errors.Is(err, ErrProcFormat) {
		t.Errorf("ParseStatus without VmHWM (a kernel thread): %v, want ErrProcFormat", err)
	}
	if d, err := ParseSchedstat([]byte("8123456789 2500000000 4242\n")); err != nil || d != 2500*time.Millisecond {
		t.Errorf("ParseSchedstat = %v, %v; want 2.5s", d, err)
	}
	if _, err := ParseSchedstat([]byte("8123456789\n")); !errors.Is(err, ErrProcFormat) {
		t.Errorf("ParseSchedstat of one field: %v, want ErrProcFormat", err)
	}
	m, err := ParseMachine([]byte("cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"))
	if err != nil || m != (Machine{Busy: 161, Idle: 1000, IOWait: 40}) {
		t.Errorf("ParseMachine = %+v, %v", m, err)
	}
}

func TestOtherCPU(t *testing.T) {
	r := Report{Machine: Machine{Busy: 1000}, Processes: []Process{
		{Name: "portal-1", Usage: Usage{CPU: 4 * time.Second}},
		{Name: "kiosks", Usage: Usage{CPU: 1500 * time.Millisecond}},
	}}
	if got := r.OtherCPU(); got != 4500*time.Millisecond {
		t.Errorf("OtherCPU = %v, want 4.5s (10 s busy less 5.5 s of the test's)", got)
	}
	r.Machine.Busy = 100
	if got := r.OtherCPU(); got != 0 {
		t.Errorf("OtherCPU = %v when the processes counted more than the machine, want 0", got)
	}
}
