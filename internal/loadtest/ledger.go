package loadtest

import (
	"fmt"
	"sort"
)

// App names one application a simulated kiosk delivered: the device that
// sent it, its idempotency key, and the file code its receipt carried (""
// if the kiosk never got one).
type App struct {
	Device   string
	Key      string
	FileCode string
}

// Filed is one filing as the portal tells it: a record of its database
// (motcua portal list --json) or a "received" event of a device's status.
type Filed struct {
	Device   string
	Key      string
	FileCode string
}

// maxProblems bounds the problems a Tally names, so a broken run prints
// the first few rather than thousands.
const maxProblems = 20

// Tally compares what the kiosks delivered with what the portal filed.
// OK is true only when every application got a receipt, the portal filed
// it exactly once under that receipt's file code, no file code names two
// filings, and the portal filed nothing else.
type Tally struct {
	Delivered int `json:"delivered"`
	Filed     int `json:"filed"`
	// NoReceipt counts applications whose kiosk never got a receipt.
	NoReceipt int `json:"no_receipt"`
	// Lost counts applications whose kiosk holds a receipt but of which
	// the portal has no filing; Pending those with neither (the kiosk
	// still has them to deliver).
	Lost    int `json:"lost"`
	Pending int `json:"pending"`
	// Doubled counts applications filed more than once, and file codes
	// given to more than one filing.
	Doubled int `json:"doubled"`
	// Mismatched counts applications filed under another file code than
	// their receipt's.
	Mismatched int `json:"mismatched"`
	// Unknown counts filings of no application the kiosks delivered.
	Unknown int `json:"unknown"`
	// Problems names the first problems found.
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether nothing was lost, doubled or mismatched.
func (t Tally) OK() bool {
	return t.NoReceipt == 0 && t.Pending == 0 && t.Lost == 0 && t.Doubled == 0 && t.Mismatched == 0 && t.Unknown == 0 &&
		t.Filed == t.Delivered
}

func (t *Tally) problem(format string, args ...any) {
	if len(t.Problems) < maxProblems {
		t.Problems = append(t.Problems, fmt.Sprintf(format, args...))
	}
}

// Reconcile tallies apps against filed. An application is identified by
// its device and key: keys are unique per device only.
func Reconcile(apps []App, filed []Filed) Tally {
	t := Tally{Delivered: len(apps), Filed: len(filed)}
	type id struct{ device, key string }
	byApp := make(map[id][]string, len(filed))
	byCode := make(map[string][]id, len(filed))
	for _, f := range filed {
		k := id{f.Device, f.Key}
		byApp[k] = append(byApp[k], f.FileCode)
		byCode[f.FileCode] = append(byCode[f.FileCode], k)
	}
	sent := make(map[id]bool, len(apps))
	for _, a := range apps {
		k := id{a.Device, a.Key}
		if sent[k] {
			t.problem("application %s/%s was delivered twice by the test itself", a.Device, a.Key)
			continue
		}
		sent[k] = true
		if a.FileCode == "" {
			t.NoReceipt++
			t.problem("application %s/%s got no receipt", a.Device, a.Key)
		}
		codes := byApp[k]
		switch {
		case len(codes) == 0 && a.FileCode == "":
			t.Pending++
		case len(codes) == 0:
			t.Lost++
			t.problem("application %s/%s got receipt %s but is not filed", a.Device, a.Key, a.FileCode)
		case len(codes) > 1:
			t.Doubled++
			t.problem("application %s/%s is filed %d times: %v", a.Device, a.Key, len(codes), codes)
		case a.FileCode != "" && codes[0] != a.FileCode:
			t.Mismatched++
			t.problem("application %s/%s got receipt %s but is filed as %s", a.Device, a.Key, a.FileCode, codes[0])
		}
	}
	// Map order is random: name the problems in a stable order.
	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if ids := byCode[c]; len(ids) > 1 {
			t.Doubled++
			t.problem("file code %s names %d filings", c, len(ids))
		}
	}
	for _, f := range filed {
		if !sent[id{f.Device, f.Key}] {
			t.Unknown++
			t.problem("filing %s of %s/%s was delivered by no kiosk of the test", f.FileCode, f.Device, f.Key)
		}
	}
	return t
}
