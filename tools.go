//go:build tools

// This file pins build-time dependencies that no package imports yet, so that
// go.mod keeps them and their (slow, cgo) builds can be cached early.
package motcua

import (
	_ "fyne.io/fyne/v2/app"
)
