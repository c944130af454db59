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
// /proc/PID/stat.
func ParseStat(b []byte) (time.Duration, error) {
	st, err := parseStat(b)
	return st.cpu, err
}

// stat is what the load test reads of /proc/PID/stat.
type stat struct {
	ppid int
	// cpu is the process's own user and system time, children that of
	// its children that ended and were waited for.
	cpu, children time.Duration
}

// parseStat reads /proc/PID/stat. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func parseStat(b []byte) (stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("stat: no command name: %w", ErrProcFormat)
	}
	// After ')': field 3 (state) is index 0, so ppid (field 4) is 1,
	// utime and stime (14, 15) are 11 and 12, cutime and cstime (16, 17)
	// 13 and 14.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return stat{}, fmt.Errorf("stat: %d fields after the command name: %w", len(f), ErrProcFormat)
	}
	var v [5]int64
	for j, k := range []int{1, 11, 12, 13, 14} {
		n, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return stat{}, fmt.Errorf("stat: field %d %q: %w", k+3, f[k], ErrProcFormat)
		}
		v[j] = n
	}
	tick := time.Second / ClockTicks
	return stat{ppid: int(v[0]), cpu: time.Duration(v[1]+v[2]) * tick, children: time.Duration(v[3]+v[4]) * tick}, nil
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

// ReadServerUsage reads the usage of a server of several processes, such
// as PostgreSQL's postmaster and its backends (each in a session of its
// own): the CPU time of the leader and its live children, and of the
// children it waited for (backends that ended), their run-queue waits,
// and the largest peak resident set of one of them (they share memory, so
// their sum would count it many times).
func ReadServerUsage(leader int) (Usage, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Usage{}, err
	}
	var total Usage
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // it ended
		}
		st, err := parseStat(b)
		if err != nil || (pid != leader && st.ppid != leader) {
			continue
		}
		u, err := ReadUsage(pid)
		if err != nil {
			continue
		}
		found = true
		total.CPU += u.CPU
		total.RunDelay += u.RunDelay
		total.RSS += u.RSS
		total.PeakRSS = max(total.PeakRSS, u.PeakRSS)
		if pid == leader {
			total.CPU += st.children
		}
	}
	if !found {
		return Usage{}, fmt.Errorf("process %d: %w", leader, os.ErrNotExist)
	}
	return total, nil
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
