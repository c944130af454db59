package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Process is one process's part in a run.
type Process struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Usage Usage  `json:"usage"`
}

// Route is what a portal's metrics say of one route over the run: its
// requests and the mean time each took.
type Route struct {
	Route string        `json:"route"`
	Count int64         `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
}

// Report is the outcome of one run.
type Report struct {
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Kiosks   int       `json:"kiosks"`
	Apps     int       `json:"apps_per_kiosk"`
	PageSize int       `json:"page_bytes"`
	// Batch is the most applications one upload carried.
	Batch    int    `json:"batch"`
	Portals  int    `json:"portal_processes"`
	Database string `json:"database"`
	Uploads  string `json:"uploads"`
	Enroll   string `json:"enrollment"`
	// EnrollTime is how long enrolling every kiosk took, before delivery.
	EnrollTime time.Duration `json:"enroll_ns"`
	// Wall is the delivery phase: from the first kiosk's start to the last
	// receipt.
	Wall       time.Duration `json:"wall_ns"`
	Receipts   int           `json:"receipts"`
	AppsPerSec float64       `json:"apps_per_second"`
	MBPerSec   float64       `json:"upload_mb_per_second"`
	Bytes      int64         `json:"upload_bytes"`
	// Latency is the time from an application's first request to its
	// receipt.
	Latency Latencies `json:"time_to_receipt"`
	// Answers counts the portal's answers other than a receipt at once:
	// 429s, 503s, resumed uploads, manifests posted after a lost receipt,
	// link errors.
	Answers   map[string]int `json:"answers,omitempty"`
	Processes []Process      `json:"processes"`
	// Machine is the whole machine's CPU time during delivery, Cores its
	// CPUs, and LoadBefore and LoadAfter /proc/loadavg around the run.
	Machine       Machine `json:"machine"`
	Cores         int     `json:"cores"`
	LoadBefore    string  `json:"loadavg_before"`
	LoadAfter     string  `json:"loadavg_after"`
	DatabaseBytes int64   `json:"database_bytes"`
	UploadsBytes  int64   `json:"uploads_bytes"`
	Routes        []Route `json:"routes,omitempty"`
	// Records compares the deliveries with the portal's records, Status
	// with the "received" events each kiosk pulled from its status.
	Records Tally `json:"records"`
	Status  Tally `json:"status"`
	// StatusUnpulled counts the kiosks whose status pull failed, left
	// out of Status.
	StatusUnpulled int `json:"status_unpulled,omitempty"`
	// Stopped says why delivery stopped before every receipt came, if it
	// did.
	Stopped string `json:"stopped,omitempty"`
}

// OK reports whether the run lost and doubled nothing.
func (r *Report) OK() bool {
	return r.Records.OK() && r.Status.OK() && r.StatusUnpulled == 0 && r.Receipts == r.Kiosks*r.Apps
}

// OtherCPU is the CPU time the machine spent during delivery on other
// work than the test's own processes (other users of a shared machine,
// the kernel's threads), never below zero.
func (r *Report) OtherCPU() time.Duration {
	other := time.Duration(r.Machine.Busy) * time.Second / ClockTicks
	for _, p := range r.Processes {
		other -= p.Usage.CPU
	}
	return max(other, 0)
}

// Markdown writes the report as a Markdown fragment for docs/benchmarks.md.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "`%s`\n\n", r.Command)
	fmt.Fprintf(w, "| kiosks × applications | per upload | portals | records / uploads | applications/s | MB/s | p50 | p99 | max | lost | doubled |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	tally := r.Records
	fmt.Fprintf(w, "| %d × %d | %d | %d | %s / %s | **%.1f** | %.1f | %s | %s | %s | %d | %d |\n\n",
		r.Kiosks, r.Apps, max(r.Batch, 1), r.Portals, r.Database, r.Uploads, r.AppsPerSec, r.MBPerSec,
		Round(r.Latency.P50), Round(r.Latency.P99), Round(r.Latency.Max),
		tally.Lost+r.Status.Lost, tally.Doubled+r.Status.Doubled)
	if r.Stopped != "" {
		fmt.Fprintf(w, "- **%s**: %d of %d applications have their receipt\n", r.Stopped, r.Receipts, r.Kiosks*r.Apps)
	}
	fmt.Fprintf(w, "- delivery %s (enrollment of the %d kiosks before it: %s, %s); %d receipts, %.1f MB of pages\n",
		Round(r.Wall), r.Kiosks, Round(r.EnrollTime), r.Enroll, r.Receipts, float64(r.Bytes)/1e6)
	wall := r.Wall.Seconds()
	for _, p := range r.Processes {
		fmt.Fprintf(w, "- %s (pid %d): %.1f CPU s (%.0f%% of one core over the delivery), %.1f s runnable waiting for a CPU, peak RSS %.0f MB\n",
			p.Name, p.PID, p.Usage.CPU.Seconds(), 100*p.Usage.CPU.Seconds()/wall, p.Usage.RunDelay.Seconds(), float64(p.Usage.PeakRSS)/1e6)
	}
	total := Seconds(r.Machine.Busy + r.Machine.Idle + r.Machine.IOWait)
	fmt.Fprintf(w, "- the machine (%d cores) during delivery: %.1f CPU s busy of %.1f (%.1f s of it other work than this test's processes), %.1f s idle waiting for the disk; load average %s before, %s after\n",
		r.Cores, Seconds(r.Machine.Busy), total, r.OtherCPU().Seconds(), Seconds(r.Machine.IOWait), r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "- database %.1f MB, uploads %.1f MB\n", float64(r.DatabaseBytes)/1e6, float64(r.UploadsBytes)/1e6)
	if len(r.Answers) > 0 {
		var parts []string
		for _, k := range sortedKeys(r.Answers) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Answers[k]))
		}
		fmt.Fprintf(w, "- answers other than a receipt at once: %s\n", strings.Join(parts, ", "))
	}
	if len(r.Routes) > 0 {
		var parts []string
		for _, rt := range r.Routes {
			parts = append(parts, fmt.Sprintf("%s %d × %s", rt.Route, rt.Count, Round(rt.Mean)))
		}
		fmt.Fprintf(w, "- the portals' own time per request (metrics, mean): %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "- records: %d filed for %d delivered (%d without a receipt, %d of them not filed), %d lost, %d doubled, %d mismatched, %d unknown; status pulled by the kiosks: %d received events, %d lost, %d doubled\n",
		r.Records.Filed, r.Records.Delivered, r.Records.NoReceipt, r.Records.Pending, r.Records.Lost, r.Records.Doubled, r.Records.Mismatched, r.Records.Unknown,
		r.Status.Filed, r.Status.Lost, r.Status.Doubled)
	if r.StatusUnpulled > 0 {
		fmt.Fprintf(w, "- **the status pull failed for %d kiosks**, left out of the status check\n", r.StatusUnpulled)
	}
	for _, p := range append(r.Records.Problems, r.Status.Problems...) {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

// Round shortens a duration for a table: milliseconds below 10 s, tenths
// of a second above.
func Round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
