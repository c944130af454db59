package kiosk

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the imports the core may not have, directly or through
// another package: the core knows no HTTP, no serial port, no screen and
// no delivery, and reaches devices and the UI only through its interfaces.
var forbidden = []string{
	"net/http",
	"github.com/tarm/serial",
	"fyne.io/",
	"github.com/motcua/motcua/sync/",
	"github.com/motcua/motcua/devices/",
	"github.com/motcua/motcua/ui",
}

func isForbidden(path string) bool {
	for _, f := range forbidden {
		if path == strings.TrimSuffix(f, "/") || strings.HasPrefix(path, strings.TrimSuffix(f, "/")+"/") {
			return true
		}
	}
	return false
}

// TestCoreImportsNoTransportOrScreen lists, with the go command, every
// package the agent's packages and the configuration's build from (not
// their tests), and fails naming each forbidden one and who imports it.
func TestCoreImportsNoTransportOrScreen(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the imports: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-json=ImportPath,Imports",
		"github.com/motcua/motcua/agent/...", "github.com/motcua/motcua/internal/config")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var listed int
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		listed++
		if isForbidden(p.ImportPath) {
			continue // reported where it is imported from
		}
		for _, imp := range p.Imports {
			if isForbidden(imp) {
				t.Errorf("%s imports %s", p.ImportPath, imp)
			}
		}
	}
	if listed < 10 {
		t.Fatalf("go list listed %d packages: the pattern matched nothing?", listed)
	}
}
