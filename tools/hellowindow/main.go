// Command hellowindow is the smallest Fyne program: one window with one
// label. It is the baseline the window benchmark (cmd/motcua's
// BenchmarkWindowStart) compares motcua's start-up time and memory with,
// measured the same way in the same run: it prints "window shown" on
// standard error once its first frame is up, as `motcua run` does for its
// attract screen.
package main

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("vn.motcua.hellowindow")
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Xin chào"))
	w.Resize(fyne.NewSize(1280, 800))
	a.Lifecycle().SetOnStarted(func() {
		// Queued behind the first frame the driver draws.
		go fyne.Do(func() { fmt.Fprintln(os.Stderr, "window shown") })
	})
	w.ShowAndRun()
}
