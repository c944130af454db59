package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/internal/config"
)

// A hint formatted with the wrong number of arguments shows staff Go's
// "%!(EXTRA ...)" noise: every hint doctor prints reads as plain text.
func TestDoctorHintsHaveNoFormattingNoise(t *testing.T) {
	dir := t.TempDir()
	data := t.TempDir()
	// A card reader port that is a regular file, and a database that is
	// not one: both failures carry hints built from their paths.
	notSerial := writeFile(t, dir, "ttyUSB0", "not a device")
	writeFile(t, data, "motcua.db", strings.Repeat("not a database ", 1000))
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf("devices = \"real\"\n[card_reader]\nport = %q\n", notSerial))
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	for _, name := range []string{"card reader", "database"} {
		line, hint := doctorLine(t, r.stdout, name)
		if !strings.HasPrefix(line, "FAIL ") || len(hint) != 2 {
			t.Errorf("%s: %q %q, want a failure with a hint in both languages", name, line, hint)
		}
	}
	if strings.Contains(r.stdout, "%!") {
		t.Errorf("doctor's output has formatting noise:\n%s", r.stdout)
	}

	// The hints no run here can reach, built directly.
	hints := []i18n.Text{
		hintReplug(serialDevice{key: "printer"}), hintReplug(serialDevice{key: "card_reader"}),
		hintNotSerial(serialDevice{key: "printer"}), hintDialout(), hintDatabase("/var/lib/motcua/motcua.db"),
	}
	for _, err := range []error{printer.ErrPaperOut, printer.ErrCoverOpen, printer.ErrPrinterError, printer.ErrOffline} {
		hints = append(hints, hintPrinterStatus(err, config.PaperWidth(58)))
	}
	for _, h := range hints {
		if strings.Contains(h.VI, "%!") || strings.Contains(h.EN, "%!") || h.VI == "" || h.EN == "" {
			t.Errorf("hint %q / %q", h.VI, h.EN)
		}
	}
}
