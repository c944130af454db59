package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/motcua/motcua/devices/scanner"
)

// Scanner is a simulated document scanner: SANE's own test backend, run by
// the real scanimage with a private SANE configuration directory, so nothing
// in /etc/sane.d changes. Its pages are test pictures (a grid by default),
// not text.
type Scanner struct {
	dir string
}

// Scanner faults: what the simulated scanner answers when it reads a page.
const (
	FaultNone      = ""
	FaultJammed    = "SANE_STATUS_JAMMED"
	FaultCoverOpen = "SANE_STATUS_COVER_OPEN"
	FaultNoDocs    = "SANE_STATUS_NO_DOCS"
	FaultIO        = "SANE_STATUS_IO_ERROR"
)

// SimDevice is the simulated scanner's SANE device name.
const SimDevice = "test:0"

// NewScanner writes a SANE configuration in dir that enables only the test
// backend, with one device whose area fits an A4 page.
func NewScanner(dir string) (*Scanner, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("scanner simulator: %w", err)
	}
	s := &Scanner{dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		return nil, fmt.Errorf("scanner simulator: %w", err)
	}
	if err := s.SetFault(FaultNone); err != nil {
		return nil, err
	}
	return s, nil
}

// SetFault makes the scanner answer every read with fault (one of the
// Fault constants), or work again with FaultNone. It takes effect at the
// next scan.
func (s *Scanner) SetFault(fault string) error {
	status := "Default"
	if fault != FaultNone {
		status = fault
	}
	conf := strings.Join([]string{
		"number_of_devices 1",
		"mode Gray",
		"depth 8",
		"resolution 200.0",
		`test-picture "Grid"`,
		`read-status-code "` + status + `"`,
		"geometry_min 0.0",
		"geometry_max 300.0",
		"geometry_quant 1.0",
		"tl_x 0.0", "tl_y 0.0", "br_x 210.0", "br_y 297.0",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(s.dir, "test.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("scanner simulator: %w", err)
	}
	return nil
}

// Env is the environment scanimage needs to see the simulated scanner.
func (s *Scanner) Env() []string { return []string{"SANE_CONFIG_DIR=" + s.dir} }

// Config returns base with the simulated device filled in: the test
// backend, from its glass unless base names a source (its feeder always
// holds ten pages).
func (s *Scanner) Config(base scanner.Config) scanner.Config {
	base.Device = SimDevice
	if base.Source == scanner.SourceAuto {
		base.Source = scanner.SourceFlatbed
	}
	base.Env = append(append([]string(nil), base.Env...), s.Env()...)
	return base
}

// Close removes the simulator's configuration.
func (s *Scanner) Close() error { return os.RemoveAll(s.dir) }
