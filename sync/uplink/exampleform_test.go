package uplink

import (
	"encoding/json"
	"testing"

	"github.com/motcua/motcua/agent/procedure"
)

// exampleForm is a valid birth-registration (1.001193) form, the catalog's
// example, which the portal checks as the kiosk does: its child is Nguyễn
// Minh Khang, and it gives the birth certificate's number, so an
// application without attachments is complete.
func exampleForm(tb testing.TB) json.RawMessage {
	tb.Helper()
	cat, err := procedure.Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	p, err := cat.Lookup("birth-registration")
	if err != nil {
		tb.Fatal(err)
	}
	return p.Example()
}
