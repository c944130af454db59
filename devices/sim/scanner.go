package sim

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/motcua/motcua/devices/scanner"
)

// Scanner is a simulated document scanner: SANE's own test backend, run by
// the real scanimage with a private SANE configuration directory, so nothing
// in /etc/sane.d changes. Its pages are test pictures (a grid by default),
// not text.
//
// The test backend fails every page alike, so a jam part-way through a
// feeder batch (SetJamAfter) is played by a small shell script in front of
// scanimage, which Config names as the command: it runs the real scanimage
// for the good pages, then again with the test backend answering
// SANE_STATUS_JAMMED for the next page.
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
	if err := os.WriteFile(s.command(), []byte(jamScript), 0o755); err != nil {
		return nil, fmt.Errorf("scanner simulator: %w", err)
	}
	if err := s.SetJamAfter(0); err != nil {
		return nil, err
	}
	return s, nil
}

// jamScript stands in front of scanimage. With a positive number in the
// jam-after file beside it and a feeder batch of more pages than that, it
// scans that many pages, then one more that jams: scanimage's own output,
// files and exit status. Otherwise it is scanimage. The real command is
// $MOTCUA_SIM_SCANIMAGE.
const jamScript = `#!/bin/sh
# motcua's scanner simulator: a feeder that jams after some pages.
real="${MOTCUA_SIM_SCANIMAGE:-scanimage}"
jam=$(cat "$(dirname "$0")/jam-after" 2>/dev/null)
batch= count=
for a in "$@"; do
  case "$a" in
  --batch=*) batch=1;;
  --batch-count=*) count="${a#--batch-count=}";;
  esac
done
if [ -z "$batch" ] || [ "${jam:-0}" -le 0 ] || { [ -n "$count" ] && [ "$count" -le "$jam" ]; }; then
  exec "$real" "$@"
fi
"$real" "$@" --batch-count="$jam" || exit $?
# SANE's test backend now and then hangs instead of answering the jam
# (seen about once in a hundred runs): after 15 s the script says what
# scanimage says of a jam.
timeout -k 2 15 "$real" "$@" --batch-start=$((jam + 1)) --batch-count=1 --read-return-value=SANE_STATUS_JAMMED
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "scanimage: sane_read: Document feeder jammed" >&2
  exit 1
fi
exit "$rc"
`

func (s *Scanner) command() string { return filepath.Join(s.dir, "scanimage") }

// SetJamAfter makes the feeder jam after n good pages: a feeder batch
// (scanner.SourceADF) then returns n pages and a paper jam. n = 0 stops
// it. It takes effect at the next scan; SetFault's fault, if any, still
// fails every page.
func (s *Scanner) SetJamAfter(n int) error {
	if n < 0 {
		return fmt.Errorf("scanner simulator: jam after %d pages: want 0 or more", n)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "jam-after"), []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return fmt.Errorf("scanner simulator: %w", err)
	}
	return nil
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
// holds ten pages). The command is the simulator's script in front of
// base's command (scanimage when empty).
func (s *Scanner) Config(base scanner.Config) scanner.Config {
	base.Device = SimDevice
	if base.Source == scanner.SourceAuto {
		base.Source = scanner.SourceFlatbed
	}
	base.Env = append(append([]string(nil), base.Env...), s.Env()...)
	real := base.Command
	if real == "" {
		real = "scanimage"
	}
	// Without scanimage, the scanner says it is not installed.
	if path, err := exec.LookPath(real); err == nil {
		base.Command = s.command()
		base.Env = append(base.Env, "MOTCUA_SIM_SCANIMAGE="+path)
	}
	return base
}

// Close removes the simulator's configuration.
func (s *Scanner) Close() error { return os.RemoveAll(s.dir) }
