package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
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

// allColorNames are every colour name Fyne 2.7 draws with.
var allColorNames = []fyne.ThemeColorName{
	theme.ColorNameBackground, theme.ColorNameButton, theme.ColorNameDisabledButton, theme.ColorNameDisabled,
	theme.ColorNameError, theme.ColorNameFocus, theme.ColorNameForeground, theme.ColorNameForegroundOnError,
	theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnSuccess, theme.ColorNameForegroundOnWarning,
	theme.ColorNameHeaderBackground, theme.ColorNameHover, theme.ColorNameHyperlink, theme.ColorNameInputBackground,
	theme.ColorNameInputBorder, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground,
	theme.ColorNamePlaceHolder, theme.ColorNamePressed, theme.ColorNamePrimary, theme.ColorNameScrollBar,
	theme.ColorNameScrollBarBackground, theme.ColorNameSelection, theme.ColorNameSeparator, theme.ColorNameShadow,
	theme.ColorNameSuccess, theme.ColorNameWarning,
}

// TestHighContrastThemeKeepsSevenToOne computes, from the high-contrast
// theme's own colours, the contrast of every text colour on every surface
// it is drawn on (with the hover, focus and selection overlays): at
// least 7:1 (WCAG AAA), at every text size; and every colour name is
// defined by the tokens, none left to Fyne's default theme.
func TestHighContrastThemeKeepsSevenToOne(t *testing.T) {
	for size := range TextSizes {
		th := NewTheme(TokensFor(DefaultTokens(), Settings{Size: size, HighContrast: true})).(*kioskTheme)
		for _, n := range allColorNames {
			if _, ok := th.color(n); !ok {
				t.Errorf("colour %s is not defined by the tokens", n)
			}
		}
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, theme.VariantLight) }
		bg := c(theme.ColorNameBackground)
		over := func(top fyne.ThemeColorName, under color.Color) color.Color { return over(c(top), under) }
		surfaces := map[string]color.Color{
			"background":      bg,
			"button":          over(theme.ColorNameButton, bg),
			"hovered button":  over(theme.ColorNameHover, over(theme.ColorNameButton, bg)),
			"focused button":  over(theme.ColorNameFocus, over(theme.ColorNameButton, bg)),
			"pressed button":  over(theme.ColorNamePressed, over(theme.ColorNameButton, bg)),
			"entry":           over(theme.ColorNameInputBackground, bg),
			"selected text":   over(theme.ColorNameSelection, over(theme.ColorNameInputBackground, bg)),
			"header":          over(theme.ColorNameHeaderBackground, bg),
			"menu":            over(theme.ColorNameMenuBackground, bg),
			"overlay":         over(theme.ColorNameOverlayBackground, bg),
			"disabled button": over(theme.ColorNameDisabledButton, bg),
		}
		pairs := []struct {
			text    fyne.ThemeColorName
			surface []string
		}{
			{theme.ColorNameForeground, []string{"background", "button", "hovered button", "focused button", "pressed button", "entry", "selected text", "header", "menu", "overlay"}},
			{theme.ColorNamePlaceHolder, []string{"entry", "background"}},
			{theme.ColorNameDisabled, []string{"disabled button", "background"}},
			{theme.ColorNameError, []string{"background", "entry"}},
			{theme.ColorNameSuccess, []string{"background"}},
			{theme.ColorNameWarning, []string{"background"}},
			{theme.ColorNamePrimary, []string{"background"}},
			{theme.ColorNameHyperlink, []string{"background"}},
		}
		for _, p := range pairs {
			for _, s := range p.surface {
				if r := contrast(c(p.text), surfaces[s]); r < 7 {
					t.Errorf("size %d: %s text on %s: %.2f:1, want at least 7:1", size, p.text, s, r)
				}
			}
		}
		// Text drawn on a filled colour: a primary or danger button, the
		// selected choice, with the hover and focus overlays.
		for _, p := range [][2]fyne.ThemeColorName{
			{theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary},
			{theme.ColorNameForegroundOnError, theme.ColorNameError},
			{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess},
			{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning},
		} {
			fill := over(p[1], bg)
			for name, s := range map[string]color.Color{"": fill, " hovered": over(theme.ColorNameHover, fill), " focused": over(theme.ColorNameFocus, fill)} {
				if r := contrast(c(p[0]), s); r < 7 {
					t.Errorf("size %d: %s on %s%s: %.2f:1, want at least 7:1", size, p[0], p[1], name, r)
				}
			}
		}
		if !sameColor(c(theme.ColorNameForeground), color.Black) || !sameColor(bg, color.White) ||
			!sameColor(c(theme.ColorNamePrimary), color.Black) || !sameColor(c(theme.ColorNameForegroundOnPrimary), color.White) {
			t.Error("the high-contrast theme is not pure black on white, and white on black for the main action")
		}
	}
}

// TestTextSizesFollowTheSettings: the four sizes of the attract screen
// give their text size, a larger heading and a tap target of 48 px or
// more that holds a line of that text.
func TestTextSizesFollowTheSettings(t *testing.T) {
	want := []float32{20, 27, 35, 46}
	for i, size := range want {
		tk := TokensFor(DefaultTokens(), Settings{Size: i})
		th := NewTheme(tk)
		if th.Size(theme.SizeNameText) != size || th.Size(theme.SizeNameHeadingText) <= size {
			t.Errorf("size %d: text %v, heading %v; want text %v and a larger heading", i, th.Size(theme.SizeNameText), th.Size(theme.SizeNameHeadingText), size)
		}
		if h := size*1.3 + 2*th.Size(theme.SizeNameInnerPadding); tk.TapTarget < 48 || h < tk.TapTarget-1 {
			t.Errorf("size %d: tap target %v, controls %v high", i, tk.TapTarget, h)
		}
	}
}

// over is the colour of top drawn over the opaque colour under.
func over(top, under color.Color) color.Color {
	t := color.NRGBAModel.Convert(top).(color.NRGBA)
	u := color.NRGBAModel.Convert(under).(color.NRGBA)
	a := float64(t.A) / 255
	m := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*a + float64(y)*(1-a))) }
	return color.NRGBA{R: m(t.R, u.R), G: m(t.G, u.G), B: m(t.B, u.B), A: 0xff}
}

// contrast is the WCAG 2 contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG 2 relative luminance of an sRGB colour.
func luminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}
