package ui

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2/theme"
)

// TestThemeFollowsTokens changes tokens the way the accessibility settings
// will (larger text, high contrast): the theme's sizes and colours follow,
// and an entry or a button reaches the tap target.
func TestThemeFollowsTokens(t *testing.T) {
	def := DefaultTokens()
	if def.TextSize < 20 || def.TapTarget < 60 {
		t.Errorf("default text %v and tap target %v: a kiosk for elderly citizens needs large ones", def.TextSize, def.TapTarget)
	}
	big := def
	big.TextSize, big.HeadingSize, big.TapTarget = 30, 44, 88
	big.Foreground, big.Background, big.Primary = color.White, color.Black, color.NRGBA{R: 0xff, G: 0xd7, A: 0xff}
	for _, tk := range []Tokens{def, big} {
		th := NewTheme(tk)
		for name, want := range map[string][2]float32{
			"text":    {th.Size(theme.SizeNameText), tk.TextSize},
			"heading": {th.Size(theme.SizeNameHeadingText), tk.HeadingSize},
			"padding": {th.Size(theme.SizeNamePadding), tk.Padding},
		} {
			if want[0] != want[1] {
				t.Errorf("%s size %v, want the token's %v", name, want[0], want[1])
			}
		}
		// An entry's or a button's height is its text line plus twice
		// the inner padding.
		if h := tk.TextSize*1.3 + 2*th.Size(theme.SizeNameInnerPadding); h < tk.TapTarget-1 {
			t.Errorf("tap target %v: controls are only %v high", tk.TapTarget, h)
		}
		for name, c := range map[string][2]color.Color{
			"foreground": {th.Color(theme.ColorNameForeground, theme.VariantLight), tk.Foreground},
			"background": {th.Color(theme.ColorNameBackground, theme.VariantDark), tk.Background},
			"primary":    {th.Color(theme.ColorNamePrimary, theme.VariantLight), tk.Primary},
			"error":      {th.Color(theme.ColorNameError, theme.VariantLight), tk.Error},
			"success":    {th.Color(theme.ColorNameSuccess, theme.VariantLight), tk.Success},
		} {
			if !sameColor(c[0], c[1]) {
				t.Errorf("%s colour %v, want the token's %v", name, c[0], c[1])
			}
		}
	}
}

func sameColor(a, b color.Color) bool {
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	return ar == br && ag == bg && ab == bb && aa == ba
}
