// Package config reads the agent's configuration file: which serial ports
// the card reader and the receipt printer are on, which SANE scanner to use,
// which portal to deliver to, and whether devices are real or simulated.
//
// The file is TOML, because staff edit it by hand: it takes comments, has
// no trailing-comma or quoting traps, and reads like the INI files they
// know. It is strict: an unknown key or a bad value is an error that names
// the key and, when it can be found, the line, so the agent refuses to start
// with a file it does not understand instead of silently ignoring a typo.
//
// The file is looked up in this order: the --config flag, $MOTCUA_CONFIG,
// then config.toml in the data directory. A missing file at that last,
// default place means the embedded defaults; a file that was named and is
// missing is an error.
package config

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"

	"github.com/motcua/motcua/internal/datasize"
	"github.com/motcua/motcua/internal/portalurl"
)

// FileName is the configuration file's name in the data directory.
const FileName = "config.toml"

// EnvVar names the configuration file when --config is not given.
const EnvVar = "MOTCUA_CONFIG"

// ErrInvalid is wrapped by every error about the file's content: a syntax
// error, an unknown key or a bad value.
var ErrInvalid = errors.New("invalid configuration")

// Config is the agent's configuration.
type Config struct {
	// Devices says which devices are real and which simulated.
	Devices    DeviceMode `toml:"devices" json:"devices"`
	CardReader CardReader `toml:"card_reader" json:"card_reader"`
	Printer    Printer    `toml:"printer" json:"printer"`
	Scanner    Scanner    `toml:"scanner" json:"scanner"`
	Portal     Portal     `toml:"portal" json:"portal"`
	Retention  Retention  `toml:"retention" json:"retention"`
	Alerts     Alerts     `toml:"alerts" json:"alerts"`
	Voice      Voice      `toml:"voice" json:"voice"`
	Window     Window     `toml:"window" json:"window"`
}

// Window is how `motcua run` shows its window; its --mode and --kiosk
// flags override it.
type Window struct {
	// Mode is the layout: the citizen screens or the staff's counter.
	Mode WindowMode `toml:"mode" json:"mode"`
	// Fullscreen fills the screen and refuses to close the window: staff
	// quit with Ctrl+Alt+Q (--kiosk).
	Fullscreen bool `toml:"fullscreen" json:"fullscreen"`
}

// Voice is how the kiosk reads its screens aloud (agent/speech).
type Voice struct {
	// Enabled offers "Đọc to / Read aloud" on the attract screen; false
	// keeps the kiosk silent.
	Enabled bool `toml:"enabled" json:"enabled"`
	// Voice is espeak-ng's Vietnamese voice: vi (northern),
	// vi-vn-x-central or vi-vn-x-south. English prompts use en.
	Voice string `toml:"voice" json:"voice"`
	// Rate is the speed step from 1 (half speed) to 7 (twice); 4 is
	// the kiosk's slow normal.
	Rate int `toml:"rate" json:"rate"`
	// Volume is the loudness step from 1 (quiet) to 5 (loud).
	Volume int `toml:"volume" json:"volume"`
}

// VoiceNames are the voices [voice] voice may name.
var VoiceNames = []string{"vi", "vi-vn-x-central", "vi-vn-x-south"}

// Retention says how long personal data is kept.
type Retention struct {
	// Days is how many days after the portal reports a file done or
	// rejected its personal data is purged; 0 purges it at the next pass.
	Days int `toml:"days" json:"days"`
}

// Alerts are the early-warning thresholds: an alert is raised when a rule
// counts Count signals for one subject within Minutes minutes.
type Alerts struct {
	// SameID: submissions with the same ID number.
	SameIDCount   int `toml:"same_id_count" json:"same_id_count"`
	SameIDMinutes int `toml:"same_id_minutes" json:"same_id_minutes"`
	// KioskFlood: submissions from one kiosk.
	KioskFloodCount   int `toml:"kiosk_flood_count" json:"kiosk_flood_count"`
	KioskFloodMinutes int `toml:"kiosk_flood_minutes" json:"kiosk_flood_minutes"`
	// FailedPIN: failed staff PINs for one login.
	FailedPINCount   int `toml:"failed_pin_count" json:"failed_pin_count"`
	FailedPINMinutes int `toml:"failed_pin_minutes" json:"failed_pin_minutes"`
}

// CardReader is the ID card QR reader on a serial port.
type CardReader struct {
	// Port is the serial device, e.g. /dev/ttyACM0; empty means none is
	// configured.
	Port string `toml:"port" json:"port"`
	Baud Baud   `toml:"baud" json:"baud"`
}

// Printer is the ESC/POS receipt printer on a serial port.
type Printer struct {
	// Port is the serial device, e.g. /dev/ttyUSB0; empty means none is
	// configured.
	Port       string     `toml:"port" json:"port"`
	Baud       Baud       `toml:"baud" json:"baud"`
	PaperWidth PaperWidth `toml:"paper_width_mm" json:"paper_width_mm"`
}

// Scanner is the document scanner, through SANE.
type Scanner struct {
	// Device is the SANE device name as `scanimage -L` lists it, e.g.
	// "epson2:libusb:001:004"; empty means none is configured.
	Device     string     `toml:"device" json:"device"`
	Source     ScanSource `toml:"source" json:"source"`
	Resolution Resolution `toml:"resolution" json:"resolution"`
	Mode       ScanMode   `toml:"mode" json:"mode"`
}

// Portal is where applications are delivered.
type Portal struct {
	// URL is the portal's base URL; empty means a local reference portal.
	URL PortalURL `toml:"url" json:"url"`
	// Insecure allows plain http to a host other than this machine.
	Insecure bool `toml:"insecure" json:"insecure"`
	// DailyBudget caps the upload bytes per day on a metered link, e.g.
	// "50MB"; empty means no cap.
	DailyBudget Size `toml:"daily_budget" json:"daily_budget"`
	// CA is a PEM file of the CA certificates the portal's TLS
	// certificate must chain to; empty means the system's.
	CA string `toml:"ca" json:"ca"`
}

// Default returns the configuration used when there is no file: every
// device unconfigured (so simulated, in auto mode) and no portal.
func Default() *Config {
	return &Config{
		Devices:    DevicesAuto,
		CardReader: CardReader{Baud: 9600},
		Printer:    Printer{Baud: 9600, PaperWidth: 80},
		Scanner:    Scanner{Source: SourceAuto, Resolution: 200, Mode: ModeGray},
		Retention:  Retention{Days: 90},
		Voice:      Voice{Enabled: true, Voice: "vi", Rate: 4, Volume: 4},
		Window:     Window{Mode: WindowKiosk},
		Alerts: Alerts{SameIDCount: 3, SameIDMinutes: 60, KioskFloodCount: 30, KioskFloodMinutes: 10,
			FailedPINCount: 5, FailedPINMinutes: 15},
	}
}

// example is the commented example file that `motcua config example`
// prints; a test checks that it parses to the defaults.
//
//go:embed example.toml
var example []byte

// Example returns a commented example file that staff can copy and edit.
func Example() []byte { return slices.Clone(example) }

// Origins of a configuration file.
const (
	OriginFlag    = "--config"
	OriginEnv     = "$" + EnvVar
	OriginDefault = "default"
)

// Source says where a configuration came from.
type Source struct {
	// Path is the file that was looked for.
	Path string `json:"path"`
	// Origin is how it was named: OriginFlag, OriginEnv or OriginDefault.
	Origin string `json:"origin"`
	// Loaded is false when there was no file at the default path and the
	// embedded defaults are used.
	Loaded bool `json:"loaded"`
}

// String describes the source for people.
func (s Source) String() string {
	if !s.Loaded {
		return fmt.Sprintf("built-in defaults (no file at %s)", s.Path)
	}
	if s.Origin == OriginDefault {
		return s.Path
	}
	return fmt.Sprintf("%s (from %s)", s.Path, s.Origin)
}

// Locate returns the file to read: flagPath when not empty, else
// $MOTCUA_CONFIG, else config.toml in dataDir.
func Locate(flagPath, dataDir string) Source {
	switch {
	case flagPath != "":
		return Source{Path: flagPath, Origin: OriginFlag}
	case os.Getenv(EnvVar) != "":
		return Source{Path: os.Getenv(EnvVar), Origin: OriginEnv}
	}
	return Source{Path: filepath.Join(dataDir, FileName), Origin: OriginDefault}
}

// Load locates and reads the configuration (see Locate). A missing file is
// the defaults when it was looked for at the default place, and an error
// when it was named.
func Load(flagPath, dataDir string) (*Config, Source, error) {
	src := Locate(flagPath, dataDir)
	data, err := readFile(src.Path)
	if errors.Is(err, fs.ErrNotExist) && src.Origin == OriginDefault {
		return Default(), src, nil
	}
	if err != nil {
		return nil, src, fmt.Errorf("config file named by %s: %w", src.Origin, err)
	}
	src.Loaded = true
	c, err := Parse(src.Path, data)
	if err != nil {
		return nil, src, err
	}
	return c, src, nil
}

// MaxFileSize bounds a configuration file; a real one is a few KiB.
const MaxFileSize = 1 << 20

// readFile reads the regular file at path, at most MaxFileSize bytes. It
// opens without blocking and checks the opened file, so a named pipe or a
// device named as the configuration cannot hang or flood the agent.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, not a regular file", path, fileKind(info.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a configuration file", path, MaxFileSize)
	}
	return data, nil
}

// fileKind names what a path that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeDir != 0:
		return "directory"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// Parse reads a configuration file's content; name is used in errors. Keys
// the file leaves out keep their defaults.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &KeyError{File: name, Line: pe.Position.Line, Key: pe.LastKey, Err: errors.New(pe.Message)}
		}
		// The decoder's own type errors carry the line and key in their text.
		if m := decoderError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &KeyError{File: name, Line: line, Key: m[2], Err: errors.New(m[3])}
		}
		return nil, &KeyError{File: name, Err: err}
	}
	var errs []error
	var unknown []toml.Key
	for _, k := range md.Undecoded() {
		if slices.ContainsFunc(unknown, func(u toml.Key) bool { return hasPrefix(k, u) }) {
			continue // inside an unknown table already reported
		}
		unknown = append(unknown, k)
		errs = append(errs, &KeyError{File: name, Line: locate(data, k), Key: k.String(),
			Err: fmt.Errorf("unknown key (%s)", knownKeys(k))})
	}
	if err := c.Validate(); err != nil {
		for _, e := range unwrapAll(err) {
			if ke, ok := e.(*KeyError); ok {
				ke.File = name
				ke.Line = locate(data, strings.Split(ke.Key, "."))
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// KeyError is a problem with one key of the file.
type KeyError struct {
	File string // the file, when known
	Line int    // the key's line, 0 when not known
	Key  string // the dotted key, e.g. printer.baud
	Err  error
}

func (e *KeyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns ErrInvalid and the underlying error.
func (e *KeyError) Unwrap() []error { return []error{ErrInvalid, e.Err} }

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isKey := err.(*KeyError); !isKey {
			return j.Unwrap()
		}
	}
	return []error{err}
}

// Validate checks every value and the rules between them, returning every
// problem found, each a *KeyError.
func (c *Config) Validate() error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Err: err})
		}
	}
	check("devices", c.Devices.check())
	check("card_reader.baud", c.CardReader.Baud.check())
	check("printer.baud", c.Printer.Baud.check())
	check("printer.paper_width_mm", c.Printer.PaperWidth.check())
	check("scanner.source", c.Scanner.Source.check())
	check("scanner.resolution", c.Scanner.Resolution.check())
	check("scanner.mode", c.Scanner.Mode.check())
	check("portal.daily_budget", c.Portal.DailyBudget.check())
	check("window.mode", c.Window.Mode.check())
	if c.Retention.Days < 0 || c.Retention.Days > 3650 {
		check("retention.days", fmt.Errorf("%d is not a number of days from 0 to 3650", c.Retention.Days))
	}
	if !slices.Contains(VoiceNames, c.Voice.Voice) {
		check("voice.voice", fmt.Errorf("%q is not one of %s", c.Voice.Voice, strings.Join(VoiceNames, ", ")))
	}
	if c.Voice.Rate < 1 || c.Voice.Rate > 7 {
		check("voice.rate", fmt.Errorf("%d is not a speed step from 1 (slowest) to 7 (fastest)", c.Voice.Rate))
	}
	if c.Voice.Volume < 1 || c.Voice.Volume > 5 {
		check("voice.volume", fmt.Errorf("%d is not a volume step from 1 (quiet) to 5 (loud)", c.Voice.Volume))
	}
	for _, a := range []struct {
		key   string
		value int
	}{
		{"same_id_count", c.Alerts.SameIDCount}, {"same_id_minutes", c.Alerts.SameIDMinutes},
		{"kiosk_flood_count", c.Alerts.KioskFloodCount}, {"kiosk_flood_minutes", c.Alerts.KioskFloodMinutes},
		{"failed_pin_count", c.Alerts.FailedPINCount}, {"failed_pin_minutes", c.Alerts.FailedPINMinutes},
	} {
		if a.value < 1 || a.value > 100000 {
			check("alerts."+a.key, fmt.Errorf("%d is not a whole number from 1 to 100000", a.value))
		}
	}
	if err := c.Portal.URL.check(); err != nil {
		check("portal.url", err)
	} else if c.Portal.URL != "" {
		if _, err := portalurl.Check(string(c.Portal.URL), c.Portal.Insecure); err != nil {
			u, _ := url.Parse(string(c.Portal.URL))
			check("portal.url", fmt.Errorf("plain http to %s would send citizens' data unencrypted: use https, or set insecure = true under [portal] for a trusted network", u.Hostname()))
		}
	}
	return errors.Join(errs...)
}

// WriteTOML writes c as TOML.
func (c *Config) WriteTOML(w io.Writer) error {
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	return nil
}

// DeviceMode says which devices are real and which simulated.
type DeviceMode string

// The device modes.
const (
	// DevicesAuto uses the configured devices and simulates the others.
	DevicesAuto DeviceMode = "auto"
	// DevicesSim simulates every device.
	DevicesSim DeviceMode = "sim"
	// DevicesReal uses the configured devices only.
	DevicesReal DeviceMode = "real"
)

// ParseDeviceMode parses "auto", "sim" or "real".
func ParseDeviceMode(s string) (DeviceMode, error) {
	m := DeviceMode(s)
	return m, m.check()
}

func (m DeviceMode) check() error {
	switch m {
	case DevicesAuto, DevicesSim, DevicesReal:
		return nil
	}
	return fmt.Errorf("%q is not auto, sim or real", string(m))
}

// UnmarshalTOML implements toml.Unmarshaler, so a bad value is reported
// with its line.
func (m *DeviceMode) UnmarshalTOML(v any) error {
	s, err := tomlString(v)
	if err != nil {
		return err
	}
	*m = DeviceMode(s)
	return m.check()
}

// WindowMode is the window's layout.
type WindowMode string

// The window's layouts.
const (
	// WindowKiosk shows the citizen screens, for a self-service kiosk.
	WindowKiosk WindowMode = "kiosk"
	// WindowCounter shows the staff screens, for a desk.
	WindowCounter WindowMode = "counter"
)

// ErrBadWindowMode is a window mode that is neither kiosk nor counter.
var ErrBadWindowMode = errors.New("not kiosk or counter")

// ParseWindowMode parses "kiosk" or "counter".
func ParseWindowMode(s string) (WindowMode, error) {
	m := WindowMode(s)
	return m, m.check()
}

func (m WindowMode) check() error {
	if m == WindowKiosk || m == WindowCounter {
		return nil
	}
	return fmt.Errorf("%q is %w", string(m), ErrBadWindowMode)
}

// UnmarshalTOML implements toml.Unmarshaler.
func (m *WindowMode) UnmarshalTOML(v any) error {
	s, err := tomlString(v)
	if err != nil {
		return err
	}
	*m = WindowMode(s)
	return m.check()
}

// Baud is a serial line speed.
type Baud int

// standardBauds are the rates serial QR readers and receipt printers use.
var standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}

func (b Baud) check() error {
	if slices.Contains(standardBauds, int(b)) {
		return nil
	}
	rates := make([]string, len(standardBauds))
	for i, r := range standardBauds {
		rates[i] = strconv.Itoa(r)
	}
	return fmt.Errorf("%d is not a standard baud rate (%s)", int(b), strings.Join(rates, ", "))
}

// UnmarshalTOML implements toml.Unmarshaler.
func (b *Baud) UnmarshalTOML(v any) error {
	n, err := tomlInt(v)
	if err != nil {
		return err
	}
	*b = Baud(n)
	return b.check()
}

// PaperWidth is a receipt roll's width in millimetres: 58 or 80.
type PaperWidth int

func (w PaperWidth) check() error {
	if w == 58 || w == 80 {
		return nil
	}
	return fmt.Errorf("%d mm is not a receipt paper width: 58 or 80", int(w))
}

// UnmarshalTOML implements toml.Unmarshaler.
func (w *PaperWidth) UnmarshalTOML(v any) error {
	n, err := tomlInt(v)
	if err != nil {
		return err
	}
	*w = PaperWidth(n)
	return w.check()
}

// Resolution is a scan resolution in dpi, 75 to 600.
type Resolution int

func (r Resolution) check() error {
	if r >= 75 && r <= 600 {
		return nil
	}
	return fmt.Errorf("%d dpi is out of range: 75 to 600 (200 suits text pages)", int(r))
}

// UnmarshalTOML implements toml.Unmarshaler.
func (r *Resolution) UnmarshalTOML(v any) error {
	n, err := tomlInt(v)
	if err != nil {
		return err
	}
	*r = Resolution(n)
	return r.check()
}

// ScanMode is how scanned pages are kept.
type ScanMode string

// The scan modes.
const (
	ModeGray    ScanMode = "gray"
	ModeBilevel ScanMode = "bilevel"
)

func (m ScanMode) check() error {
	if m == ModeGray || m == ModeBilevel {
		return nil
	}
	return fmt.Errorf("%q is not gray or bilevel", string(m))
}

// UnmarshalTOML implements toml.Unmarshaler.
func (m *ScanMode) UnmarshalTOML(v any) error {
	s, err := tomlString(v)
	if err != nil {
		return err
	}
	*m = ScanMode(s)
	return m.check()
}

// ScanSource is where the scanner takes paper from.
type ScanSource string

// The scan sources.
const (
	// SourceAuto is the document feeder when the scanner has one and it
	// holds paper, else the glass.
	SourceAuto    ScanSource = "auto"
	SourceFlatbed ScanSource = "flatbed"
	SourceADF     ScanSource = "adf"
)

func (s ScanSource) check() error {
	switch s {
	case SourceAuto, SourceFlatbed, SourceADF:
		return nil
	}
	return fmt.Errorf("%q is not auto, flatbed or adf", string(s))
}

// UnmarshalTOML implements toml.Unmarshaler.
func (s *ScanSource) UnmarshalTOML(v any) error {
	str, err := tomlString(v)
	if err != nil {
		return err
	}
	*s = ScanSource(str)
	return s.check()
}

// PortalURL is a portal's base URL: empty, or absolute http or https.
type PortalURL string

func (p PortalURL) check() error {
	if p == "" {
		return nil
	}
	// Plain http is allowed here; Validate applies the insecure rule.
	if _, err := portalurl.Check(string(p), true); err != nil {
		return err
	}
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler.
func (p *PortalURL) UnmarshalTOML(v any) error {
	s, err := tomlString(v)
	if err != nil {
		return err
	}
	*p = PortalURL(s)
	return p.check()
}

// Size is a byte count such as "50MB"; empty means none.
type Size string

// Bytes returns the size in bytes, 0 when empty.
func (s Size) Bytes() int64 {
	if s == "" {
		return 0
	}
	n, _ := datasize.Parse(string(s))
	return n
}

func (s Size) check() error {
	if s == "" {
		return nil
	}
	_, err := datasize.Parse(string(s))
	return err
}

// UnmarshalTOML implements toml.Unmarshaler; a bare number is bytes.
func (s *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		*s = Size(strconv.FormatInt(v, 10))
	case string:
		*s = Size(v)
	default:
		return fmt.Errorf("want a size like \"50MB\", not %T", v)
	}
	return s.check()
}

func tomlString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a quoted string, not %v", v)
	}
	return s, nil
}

func tomlInt(v any) (int, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("want a whole number, not %q", fmt.Sprint(v))
	}
	return int(n), nil
}

func hasPrefix(k, prefix toml.Key) bool {
	return len(k) >= len(prefix) && slices.Equal(k[:len(prefix)], prefix)
}

// knownKeys lists the keys allowed where k is.
func knownKeys(k toml.Key) string {
	tables := map[string][]string{
		"":            {"devices", "card_reader", "printer", "scanner", "portal", "retention", "alerts", "voice", "window"},
		"card_reader": {"port", "baud"},
		"printer":     {"port", "baud", "paper_width_mm"},
		"scanner":     {"device", "source", "resolution", "mode"},
		"portal":      {"url", "insecure", "daily_budget", "ca"},
		"retention":   {"days"},
		"voice":       {"enabled", "voice", "rate", "volume"},
		"window":      {"mode", "fullscreen"},
		"alerts": {"same_id_count", "same_id_minutes", "kiosk_flood_count", "kiosk_flood_minutes",
			"failed_pin_count", "failed_pin_minutes"},
	}
	parent := strings.Join(k[:len(k)-1], ".")
	keys, ok := tables[parent]
	if !ok {
		return "no keys are allowed here"
	}
	where := "at the top"
	if parent != "" {
		where = "in [" + parent + "]"
	}
	return "allowed " + where + ": " + strings.Join(keys, ", ")
}

// decoderError is the form of the decoder's type errors.
var decoderError = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)

var tableHeader = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.\- ]+?)\s*\]`)

// locate finds the line of key k in a TOML file, or returns 0. It knows
// the file's plain forms, [table] headers and key = value lines, dotted
// or not, which is what staff write; the decoder does not say.
func locate(data []byte, k toml.Key) int {
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := tableHeader.FindStringSubmatch(text); m != nil {
			table = strings.ReplaceAll(m[1], " ", "")
			if table == k.String() {
				return line
			}
			continue
		}
		key, _, ok := strings.Cut(text, "=")
		if !ok {
			continue
		}
		key = strings.ReplaceAll(strings.TrimSpace(key), " ", "")
		full := key
		if table != "" {
			full = table + "." + key
		}
		if full == k.String() {
			return line
		}
	}
	return 0
}
