package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func parseFile(t *testing.T, name string) (*Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(name, b)
}

func TestParseGoodFiles(t *testing.T) {
	tests := []struct {
		file string
		want func(c *Config)
	}{
		{"empty.toml", func(c *Config) {}},
		{"partial.toml", func(c *Config) { c.CardReader.Port = "/dev/ttyACM0" }},
		{"dotted-keys.toml", func(c *Config) { c.Printer.Port = "/dev/ttyUSB1"; c.Printer.PaperWidth = 58 }},
		{"plain-http-insecure.toml", func(c *Config) { c.Portal.URL = "http://10.0.0.5:8787"; c.Portal.Insecure = true }},
		{"kiosk-fullscreen.toml", func(c *Config) { c.Window.Fullscreen = true }},
		{"full.toml", func(c *Config) {
			*c = Config{
				Devices:    DevicesReal,
				CardReader: CardReader{Port: "/dev/serial/by-id/usb-Newland_QR-if00", Baud: 115200},
				Printer:    Printer{Port: "/dev/ttyUSB0", Baud: 19200, PaperWidth: 58},
				Scanner:    Scanner{Device: "epson2:libusb:001:004", Source: SourceADF, Resolution: 300, Mode: ModeBilevel},
				Portal:     Portal{URL: "https://portal.example.vn", DailyBudget: "50MB"},
				Retention:  Retention{Days: 30},
				Alerts: Alerts{SameIDCount: 2, SameIDMinutes: 30, KioskFloodCount: 50, KioskFloodMinutes: 5,
					FailedPINCount: 4, FailedPINMinutes: 20},
				Voice:  Voice{Enabled: false, Voice: "vi-vn-x-south", Rate: 3, Volume: 5},
				Window: Window{Mode: WindowCounter, Fullscreen: true},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// A bad file is refused with the file, the line and the key, and a message
// that says what is allowed.
func TestParseBadFiles(t *testing.T) {
	tests := []struct {
		file string
		line int
		key  string
		want string
	}{
		{"unknown-key.toml", 3, "printer.widht", "unknown key (allowed in [printer]: port, baud, paper_width_mm)"},
		{"unknown-table.toml", 3, "scaner", "unknown key (allowed at the top: devices, card_reader, printer, scanner, portal, retention, alerts, voice, window)"},
		{"bad-window-mode.toml", 3, "window.mode", `"desk" is not kiosk or counter`},
		{"unknown-window-key.toml", 3, "window.full_screen", "unknown key (allowed in [window]: mode, fullscreen)"},
		{"window-fullscreen-not-bool.toml", 2, "window.fullscreen", "incompatible types"},
		{"bad-retention.toml", 3, "retention.days", "-1 is not a number of days from 0 to 3650"},
		{"bad-alert.toml", 2, "alerts.same_id_count", "0 is not a whole number from 1 to 100000"},
		{"bad-voice.toml", 3, "voice.voice", `"south" is not one of vi, vi-vn-x-central, vi-vn-x-south`},
		{"bad-voice-rate.toml", 2, "voice.rate", "9 is not a speed step from 1 (slowest) to 7 (fastest)"},
		{"bad-baud.toml", 3, "card_reader.baud", "9601 is not a standard baud rate (1200, 2400, 4800, 9600, "},
		{"baud-not-a-number.toml", 2, "card_reader.baud", `want a whole number, not "fast"`},
		{"bad-paper-width.toml", 4, "printer.paper_width_mm", "76 mm is not a receipt paper width: 58 or 80"},
		{"bad-resolution.toml", 2, "scanner.resolution", "1200 dpi is out of range: 75 to 600"},
		{"bad-scan-mode.toml", 2, "scanner.mode", `"color" is not gray or bilevel`},
		{"bad-scan-source.toml", 2, "scanner.source", `"tray" is not auto, flatbed or adf`},
		{"bad-devices.toml", 1, "devices", `"simulated" is not auto, sim or real`},
		{"bad-portal-url.toml", 2, "portal.url", "is not an absolute URL"},
		{"plain-http-without-insecure.toml", 3, "portal.url", "set insecure = true under [portal]"},
		{"bad-daily-budget.toml", 2, "portal.daily_budget", `"lots" is not a size like 50MB`},
		{"insecure-not-bool.toml", 2, "portal.insecure", "incompatible types"},
		{"syntax-error.toml", 2, "printer.port", "expected value"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := parseFile(t, tt.file)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error %T %v is not a *KeyError", err, err)
			}
			if ke.File != tt.file || ke.Line != tt.line || ke.Key != tt.key || !strings.Contains(ke.Err.Error(), tt.want) {
				t.Errorf("got %s:%d %q %q\nwant %s:%d %q ...%q...", ke.File, ke.Line, ke.Key, ke.Err, tt.file, tt.line, tt.key, tt.want)
			}
			prefix := tt.file + ":" + strconv.Itoa(tt.line) + ": " + tt.key + ": "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
}

// Every problem in a file is reported at once, so staff fix them in one go.
func TestParseReportsEveryProblem(t *testing.T) {
	_, err := parseFile(t, "two-problems.toml")
	var keys []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ke *KeyError
		if errors.As(e, &ke) {
			keys = append(keys, ke.Key+"@"+strconv.Itoa(ke.Line))
		}
	}
	if !reflect.DeepEqual(keys, []string{"colour@2", "portal.url@5"}) {
		t.Fatalf("reported %v (%v)", keys, err)
	}
}

// The example file staff copy parses to the defaults and names every key.
func TestExampleIsTheDefaults(t *testing.T) {
	c, err := Parse("example.toml", Example())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("example %+v\ndefaults %+v", c, Default())
	}
	var example, encoded map[string]any
	if _, err := toml.Decode(string(Example()), &example); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Default().WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := toml.Decode(buf.String(), &encoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(example, encoded) {
		t.Fatalf("the example's keys differ from the configuration's:\nexample %v\nconfig  %v", example, encoded)
	}
}

// What WriteTOML prints reads back as the same configuration.
func TestWriteTOMLRoundTrips(t *testing.T) {
	c, err := parseFile(t, "full.toml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Parse("printed", buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip: %+v, want %+v", back, c)
	}
}

func TestLoadLookup(t *testing.T) {
	dataDir := t.TempDir()
	other := filepath.Join(t.TempDir(), "kiosk.toml")
	if err := os.WriteFile(other, []byte("devices = \"sim\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inDataDir := filepath.Join(dataDir, FileName)

	t.Setenv(EnvVar, "")
	c, src, err := Load("", dataDir)
	if err != nil || src.Loaded || src.Path != inDataDir || src.Origin != OriginDefault || !reflect.DeepEqual(c, Default()) {
		t.Fatalf("no file: %+v %+v %v", c, src, err)
	}
	if !strings.Contains(src.String(), "built-in defaults") {
		t.Errorf("source %q", src)
	}

	if err := os.WriteFile(inDataDir, []byte("devices = \"real\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, src, err = Load("", dataDir)
	if err != nil || !src.Loaded || c.Devices != DevicesReal || src.String() != inDataDir {
		t.Fatalf("file in the data dir: %+v %+v %v", c, src, err)
	}

	t.Setenv(EnvVar, other)
	c, src, err = Load("", dataDir)
	if err != nil || src.Origin != OriginEnv || c.Devices != DevicesSim {
		t.Fatalf("$%s: %+v %+v %v", EnvVar, c, src, err)
	}

	c, src, err = Load(inDataDir, dataDir)
	if err != nil || src.Origin != OriginFlag || c.Devices != DevicesReal {
		t.Fatalf("--config beats $%s: %+v %+v %v", EnvVar, c, src, err)
	}

	missing := filepath.Join(dataDir, "nope.toml")
	for _, tt := range []struct {
		flag, env string
	}{{missing, ""}, {"", missing}} {
		t.Setenv(EnvVar, tt.env)
		if _, _, err := Load(tt.flag, dataDir); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.toml") {
			t.Errorf("a named file that is missing (flag %q, env %q): %v", tt.flag, tt.env, err)
		}
	}
}

func TestValidateCatchesValuesSetInCode(t *testing.T) {
	c := Default()
	c.Printer.Baud = 12345
	c.Devices = "everything"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "printer.baud: 12345") || !strings.Contains(err.Error(), `devices: "everything"`) {
		t.Fatalf("Validate: %v", err)
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if m, err := ParseDeviceMode("sim"); err != nil || m != DevicesSim {
		t.Fatalf("ParseDeviceMode: %v %v", m, err)
	}
	if Size("50MB").Bytes() != 50e6 || Size("").Bytes() != 0 {
		t.Fatal("Size.Bytes")
	}
}

// A named pipe given as the configuration file is refused at once: opening
// it for reading used to block until a writer came, hanging the agent.
func TestLoadRefusesANamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := Load(path, t.TempDir())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("Load(FIFO) = %v, want an error saying it is not a regular file", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Load blocked on a named pipe")
	}
}

// A configuration file larger than any real one is refused, not read whole.
func TestLoadRefusesAnOversizedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 1<<30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	if _, _, err := Load(path, t.TempDir()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Load(1 GiB) = %v, want a size error", err)
	}
}
