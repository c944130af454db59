package loadtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClockTicks is the kernel's USER_HZ, the unit of the CPU times in
// /proc/PID/stat: 100 on every Linux architecture Go supports but alpha.
const ClockTicks = 100

// ErrProcFormat is returned (wrapped) for a /proc file that does not read
// as the kernel writes it.
var ErrProcFormat = errors.New("unexpected /proc format")

// Usage is what the kernel counted for one process so far.
type Usage struct {
	// CPU is the user and system time the process used.
	CPU time.Duration `json:"cpu_ns"`
	// PeakRSS is the peak resident set size (VmHWM), in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// RSS is the resident set size now (VmRSS), in bytes.
	RSS int64 `json:"rss_bytes"`
	// RunDelay is how long the process's threads waited, runnable, for a
	// CPU (the second field of each /proc/PID/task/TID/schedstat): the
	// time a saturated machine took from it. Threads that ended are not
	// counted.
	RunDelay time.Duration `json:"run_delay_ns"`
}

// ParseSchedstat reads the time a thread waited on a run queue from the
// contents of /proc/PID/task/TID/schedstat: "on-CPU ns, waiting ns,
// timeslices".
func ParseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("schedstat %q: %w", b, ErrProcFormat)
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat %q: %w", b, ErrProcFormat)
	}
	return time.Duration(n), nil
}

// runDelay adds up the run-queue waits of the process's live threads.
func runDelay(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		d, err := ParseSchedstat(b)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// ParseStat reads the user and system CPU time from the contents of
// /proc/PID/stat. The command name (field 2) is in parentheses and may
// hold spaces and parentheses itself, so the fields are counted from the
// last ')'.
func ParseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name: %w", ErrProcFormat)
	}
	// After ')': field 3 (state) is index 0, so utime (field 14) is 11 and
	// stime (field 15) is 12.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name: %w", len(f), ErrProcFormat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: cpu time %q: %w", s, ErrProcFormat)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / ClockTicks, nil
}

// ParseStatus reads VmHWM and VmRSS, in bytes, from the contents of
// /proc/PID/status.
func ParseStatus(b []byte) (hwm, rss int64, err error) {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("status: %s %q: %w", name, rest, ErrProcFormat)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("status: %s %q: %w", name, rest, ErrProcFormat)
		}
		if name == "VmHWM" {
			hwm = n << 10
		} else {
			rss = n << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("status: no VmHWM and VmRSS: %w", ErrProcFormat)
	}
	return hwm, rss, nil
}

// ReadUsage reads a live process's usage from /proc.
func ReadUsage(pid int) (Usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	cpu, err := ParseStat(stat)
	if err != nil {
		return Usage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	hwm, rss, err := ParseStatus(status)
	if err != nil {
		return Usage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	delay, err := runDelay(pid)
	if err != nil {
		return Usage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return Usage{CPU: cpu, PeakRSS: hwm, RSS: rss, RunDelay: delay}, nil
}

// Machine is the whole machine's CPU time, from the first line of
// /proc/stat, in clock ticks: what every process used, and what the CPUs
// spent idle and waiting for the disk.
type Machine struct {
	Busy   int64 `json:"busy_ticks"`
	Idle   int64 `json:"idle_ticks"`
	IOWait int64 `json:"iowait_ticks"`
}

// ParseMachine reads the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal (guest time is already in user).
func ParseMachine(b []byte) (Machine, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return Machine{}, fmt.Errorf("stat: first line %q: %w", line, ErrProcFormat)
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return Machine{}, fmt.Errorf("stat: cpu field %q: %w", f[i+1], ErrProcFormat)
		}
		v[i] = n
	}
	return Machine{Busy: v[0] + v[1] + v[2] + v[5] + v[6] + v[7], Idle: v[3], IOWait: v[4]}, nil
}

// ReadMachine reads /proc/stat.
func ReadMachine() (Machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}, err
	}
	return ParseMachine(b)
}

// Sub returns the ticks spent between an earlier reading and m.
func (m Machine) Sub(earlier Machine) Machine {
	return Machine{Busy: m.Busy - earlier.Busy, Idle: m.Idle - earlier.Idle, IOWait: m.IOWait - earlier.IOWait}
}

// Seconds converts clock ticks to seconds.
func Seconds(ticks int64) float64 { return float64(ticks) / ClockTicks }
