package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/config"
)

// parsePrinted reads back what `motcua config` printed.
func parsePrinted(t *testing.T, out string) *config.Config {
	t.Helper()
	c, err := config.Parse("printed", []byte(out))
	if err != nil {
		t.Fatalf("motcua config printed a file it cannot read: %v\n%s", err, out)
	}
	return c
}

// With no file, config prints the defaults and says so; the example file,
// copied to the data directory, is then what it reads.
func TestConfigDefaultsAndExample(t *testing.T) {
	data := t.TempDir()
	r := cliEnv(t, data, nil, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "built-in defaults (no file at "+filepath.Join(data, "config.toml")+")") {
		t.Fatalf("config with no file: %+v", r)
	}
	if c := parsePrinted(t, r.stdout); !reflect.DeepEqual(c, config.Default()) {
		t.Fatalf("printed %+v, want the defaults", c)
	}

	ex := cliEnv(t, data, nil, "config", "example")
	if ex.code != 0 || !strings.Contains(ex.stdout, "paper_width_mm = 80") || !strings.Contains(ex.stdout, "Cổng nối tiếp") {
		t.Fatalf("config example: %+v", ex)
	}
	edited := strings.Replace(ex.stdout, "paper_width_mm = 80", "paper_width_mm = 58", 1)
	writeFile(t, data, "config.toml", edited)
	r = cliEnv(t, data, nil, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "# motcua configuration: "+filepath.Join(data, "config.toml")+"\n") {
		t.Fatalf("config with the example in the data dir: %+v", r)
	}
	if c := parsePrinted(t, r.stdout); c.Printer.PaperWidth != 58 {
		t.Fatalf("printed %+v, want the edited paper width", c)
	}
}

// --config beats $MOTCUA_CONFIG, which beats the data directory; a named
// file that is missing is an error, not the defaults.
func TestConfigLookupOrder(t *testing.T) {
	data := t.TempDir()
	writeFile(t, data, "config.toml", "devices = \"real\"\n")
	byEnv := writeFile(t, t.TempDir(), "env.toml", "devices = \"sim\"\n")
	byFlag := writeFile(t, t.TempDir(), "flag.toml", "devices = \"auto\"\n[printer]\nport = \"/dev/ttyUSB3\"\n")

	var got struct {
		Source config.Source  `json:"source"`
		Config *config.Config `json:"config"`
	}
	mustJSON(t, cliEnv(t, data, nil, "config", "--json").stdout, &got)
	if got.Source.Origin != config.OriginDefault || !got.Source.Loaded || got.Config.Devices != config.DevicesReal {
		t.Errorf("data dir: %+v %+v", got.Source, got.Config)
	}
	mustJSON(t, cliEnv(t, data, []string{"MOTCUA_CONFIG=" + byEnv}, "config", "--json").stdout, &got)
	if got.Source.Origin != config.OriginEnv || got.Source.Path != byEnv || got.Config.Devices != config.DevicesSim {
		t.Errorf("$MOTCUA_CONFIG: %+v %+v", got.Source, got.Config)
	}
	mustJSON(t, cliEnv(t, data, []string{"MOTCUA_CONFIG=" + byEnv}, "config", "--json", "--config", byFlag).stdout, &got)
	if got.Source.Origin != config.OriginFlag || got.Config.Devices != config.DevicesAuto || got.Config.Printer.Port != "/dev/ttyUSB3" {
		t.Errorf("--config: %+v %+v", got.Source, got.Config)
	}

	missing := filepath.Join(data, "missing.toml")
	for _, tt := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"config", "--config", missing}},
		{[]string{"MOTCUA_CONFIG=" + missing}, []string{"config"}},
	} {
		if r := cliEnv(t, data, tt.env, tt.args...); r.code != exitFail || !strings.Contains(r.stderr, "missing.toml") {
			t.Errorf("%v %v: a missing named file gave %+v", tt.env, tt.args, r)
		}
	}
}

// A file with an unknown key stops every command that reads it, and the
// message names the file, the line and the key.
func TestBadConfigIsRefused(t *testing.T) {
	data := t.TempDir()
	bad, err := filepath.Abs(filepath.Join("testdata", "config-unknown-key.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := bad + ":4: printer.widht: unknown key"
	for _, args := range [][]string{
		{"config", "--config", bad},
		{"run", "--config", bad, "--local-portal", "127.0.0.1:0"},
		{"receipt", "1", "--png", filepath.Join(data, "r.png"), "--config", bad},
	} {
		r := cliEnv(t, data, nil, args...)
		if r.code != exitFail || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming %q", args, r.code, r.stderr, want)
		}
	}
	r := cliEnv(t, data, nil, "doctor", "--config", bad)
	if r.code != exitFail || !strings.Contains(r.stdout, "FAIL config: "+want) || !strings.Contains(r.stdout, "Sửa dòng") {
		t.Errorf("doctor with a bad config: %+v", r)
	}
}

// $MOTCUA_PORTAL is shown as overriding the file's portal.
func TestConfigShowsPortalOverride(t *testing.T) {
	data := t.TempDir()
	writeFile(t, data, "config.toml", "[portal]\nurl = \"https://portal.example.vn\"\n")
	r := cliEnv(t, data, []string{"MOTCUA_PORTAL=http://127.0.0.1:9999"}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "$MOTCUA_PORTAL overrides portal.url: http://127.0.0.1:9999") ||
		!strings.Contains(r.stdout, `url = "https://portal.example.vn"`) {
		t.Fatalf("%+v", r)
	}
	if r := cliEnv(t, data, nil, "config", "bogus"); r.code != exitUsage {
		t.Fatalf("config bogus: %+v", r)
	}
}
