package uplink

import "testing"

// The kiosk believes receipts whose day's sequence has grown past four
// digits, as the portal issues them, and still refuses malformed ones.
func TestReceiptWithLongDaySequenceIsBelieved(t *testing.T) {
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"000.00.01.H29-261123-0001", true},
		{"000.00.01.H29-261123-10000", true},
		{"000.00.01.H29-261123-9999999", true},
		{"000.00.01.H29-261123-10000000", false},
		{"000.00.01.H29-261123--10000", false},
		{"000.00.01.H29-261123-00001", false},
	} {
		_, err := parseReceipt([]byte(`{"file_code":"` + tt.code + `","state":"received","received_at":"2026-11-23T02:00:00Z"}`))
		if (err == nil) != tt.ok {
			t.Errorf("parseReceipt(%s): %v, want ok %v", tt.code, err, tt.ok)
		}
	}
}
