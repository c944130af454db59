package sim

import (
	"fmt"
	"os"
	"path/filepath"
)

// linkDevice points path at the pseudo-terminal dev, the way a udev rule
// names a device. A link already there, left by a simulator that did not
// stop cleanly, is replaced in one step (a new link renamed over it), so
// the path never dangles and a link that cannot be replaced says why (the
// folder's permissions) rather than "file exists".
func linkDevice(dev, path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.new-%d", filepath.Base(path), os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(dev, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// unlinkDevice removes path if it still points at dev: a simulator
// started since on the same path keeps its link.
func unlinkDevice(dev, path string) {
	if target, err := os.Readlink(path); err == nil && target == dev {
		os.Remove(path)
	}
}

// checkWritable checks that files can be created in dir, as the printer
// does for each receipt: a folder another user made fails now, with the
// real cause, rather than at the first receipt.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".check-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
