package status

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoOuterPackage: the status surface is core: it imports no
// UI, HTTP, serial or delivery package, directly or not, so the screens,
// the devices and delivery can all depend on it.
func TestImportsNoOuterPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"fyne.io/", "net/http", "github.com/tarm/serial", "github.com/motcua/motcua/sync/",
		"github.com/motcua/motcua/devices/", "github.com/motcua/motcua/ui"}
	for dep := range strings.FieldsSeq(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("agent/status depends on %s", dep)
			}
		}
	}
}
