package speech

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoOuterPackage: speech is core: it runs no process and
// imports no UI, HTTP, serial, device or delivery package, directly or
// not, so the screens and a site's own engine can depend on it.
func TestImportsNoOuterPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"fyne.io/", "net/http", "os/exec", "github.com/tarm/serial", "github.com/motcua/motcua/sync/",
		"github.com/motcua/motcua/devices/", "github.com/motcua/motcua/ui"}
	for dep := range strings.FieldsSeq(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("agent/speech depends on %s", dep)
			}
		}
	}
}
