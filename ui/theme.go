package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Tokens are the named sizes and colours every kiosk screen is drawn with.
// The accessibility settings (large text, high contrast) change these and
// nothing else: no screen hard-codes a size or a colour.
type Tokens struct {
	TextSize    float32 // body text
	HeadingSize float32 // screen titles
	Padding     float32 // space between elements
	TapTarget   float32 // the smallest height and width of anything tappable
	Foreground  color.Color
	Background  color.Color
	Primary     color.Color // the action to take, the selected choice
	Error       color.Color // a problem to fix
	Success     color.Color // done, filled from the card
	// HighContrast draws buttons, entries and muted text with the
	// foreground and background alone (7:1 and more), not blends.
	HighContrast bool
}

// TextSizes are the four text sizes a citizen chooses from on the attract
// screen, in pixels: about the cap heights of the four ranges of the VVSG
// 2.0 (3.5 to 4.2 mm up to 8.5 to 9.9 mm at a kiosk's reading distance).
var TextSizes = [...]float32{20, 27, 35, 46}

// Settings are what a citizen chooses for the session on the attract
// screen; the next citizen starts from the defaults again.
type Settings struct {
	Size         int  // an index in TextSizes
	HighContrast bool // the high-contrast theme
	Voice        bool // prompts spoken through Options.Speaker
}

// DefaultTokens are the kiosk's defaults: the first of TextSizes, large
// tap targets for elderly citizens, dark text on a light background.
func DefaultTokens() Tokens {
	return Tokens{
		TextSize:    TextSizes[0],
		HeadingSize: heading(TextSizes[0]),
		Padding:     8,
		TapTarget:   64,
		Foreground:  color.NRGBA{R: 0x1a, G: 0x1a, B: 0x1a, A: 0xff},
		Background:  color.NRGBA{R: 0xfa, G: 0xfa, B: 0xf7, A: 0xff},
		Primary:     color.NRGBA{R: 0x0b, G: 0x5c, B: 0xad, A: 0xff},
		Error:       color.NRGBA{R: 0xb0, G: 0x1c, B: 0x1c, A: 0xff},
		Success:     color.NRGBA{R: 0x1b, G: 0x6e, B: 0x2f, A: 0xff},
	}
}

// heading is the title size for a text size.
func heading(text float32) float32 { return float32(math.Round(float64(text) * 1.4)) }

// TokensFor are base with the settings applied: the text size chosen,
// its heading and a tap target that holds it, and the high-contrast
// colours when chosen.
func TokensFor(base Tokens, s Settings) Tokens {
	t := base
	size := TextSizes[min(max(s.Size, 0), len(TextSizes)-1)]
	t.TextSize, t.HeadingSize = size, heading(size)
	// A control is its text line plus the inner padding twice (see Size):
	// at least 64 px, and room for a larger text.
	t.TapTarget = max(base.TapTarget, float32(math.Ceil(float64(size)*1.3+24)))
	if s.HighContrast {
		t = HighContrast(t)
	}
	return t
}

// HighContrast are t in pure black on white, the screen's main action and
// the selected choice in white on black, and problems in a dark red that
// keeps 7:1 on white.
func HighContrast(t Tokens) Tokens {
	t.Foreground = color.NRGBA{A: 0xff}
	t.Background = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	t.Primary = color.NRGBA{A: 0xff}
	t.Error = color.NRGBA{R: 0x9e, A: 0xff}
	t.Success = color.NRGBA{G: 0x55, A: 0xff}
	t.HighContrast = true
	return t
}

// kioskTheme is a fyne.Theme drawn from Tokens. Fonts and icons are Fyne's:
// its default font, Noto Sans, has every Vietnamese letter.
type kioskTheme struct {
	t Tokens
}

// NewTheme returns a Fyne theme built from t.
func NewTheme(t Tokens) fyne.Theme { return &kioskTheme{t: t} }

func (k *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	if c, ok := k.color(n); ok {
		return c
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

// color is the colour of n, and whether the tokens define it.
func (k *kioskTheme) color(n fyne.ThemeColorName) (color.Color, bool) {
	t := k.t
	if t.HighContrast {
		if c, ok := k.contrastColor(n); ok {
			return c, true
		}
	}
	switch n {
	case theme.ColorNameForeground:
		return t.Foreground, true
	case theme.ColorNameBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return t.Background, true
	case theme.ColorNameInputBackground:
		return mix(t.Background, t.Foreground, 0.06), true
	case theme.ColorNameButton:
		return mix(t.Background, t.Foreground, 0.10), true
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink:
		if n == theme.ColorNameFocus {
			return withAlpha(t.Primary, 0x70), true
		}
		return t.Primary, true
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError, theme.ColorNameForegroundOnSuccess:
		return t.Background, true
	case theme.ColorNameError:
		return t.Error, true
	case theme.ColorNameSuccess:
		return t.Success, true
	case theme.ColorNameSelection:
		return withAlpha(t.Primary, 0x40), true
	case theme.ColorNameHover, theme.ColorNamePressed:
		return withAlpha(t.Foreground, 0x18), true
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return mix(t.Background, t.Foreground, 0.45), true
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled:
		return mix(t.Background, t.Foreground, 0.55), true
	case theme.ColorNameDisabledButton:
		return mix(t.Background, t.Foreground, 0.15), true
	case theme.ColorNameShadow:
		return withAlpha(t.Foreground, 0x30), true
	case theme.ColorNameForegroundOnWarning:
		return t.Foreground, true
	case theme.ColorNameWarning:
		return mix(t.Error, t.Background, 0.5), true
	case theme.ColorNameHeaderBackground:
		return mix(t.Background, t.Foreground, 0.06), true
	case theme.ColorNameScrollBar:
		return mix(t.Background, t.Foreground, 0.45), true
	case theme.ColorNameScrollBarBackground:
		return mix(t.Background, t.Foreground, 0.10), true
	}
	return nil, false
}

// contrastColor is the high-contrast theme's colour of n: black and
// white, the error and success colours, and no blend of them that text
// is drawn on or in.
func (k *kioskTheme) contrastColor(n fyne.ThemeColorName) (color.Color, bool) {
	t := k.t
	switch n {
	case theme.ColorNameInputBackground, theme.ColorNameHeaderBackground,
		theme.ColorNameDisabledButton, theme.ColorNameScrollBarBackground:
		return t.Background, true
	case theme.ColorNameButton:
		// Light enough for 15:1, dark enough to show a button's edge.
		return mix(t.Background, t.Foreground, 0.12), true
	case theme.ColorNameWarning:
		return t.Error, true
	case theme.ColorNameForegroundOnWarning:
		return t.Background, true
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled:
		// A dark grey: still 7:1 on white, told apart from typed text.
		return mix(t.Background, t.Foreground, 0.72), true
	case theme.ColorNameInputBorder, theme.ColorNameSeparator, theme.ColorNameScrollBar:
		return t.Foreground, true
	case theme.ColorNameHover, theme.ColorNamePressed:
		return withAlpha(t.Foreground, 0x0c), true
	case theme.ColorNameFocus:
		return withAlpha(t.Foreground, 0x40), true
	case theme.ColorNameSelection:
		return withAlpha(t.Foreground, 0x24), true
	}
	return nil, false
}

func (k *kioskTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (k *kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (k *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	t := k.t
	switch n {
	case theme.SizeNameText:
		return t.TextSize
	case theme.SizeNameHeadingText:
		return t.HeadingSize
	case theme.SizeNameSubHeadingText:
		return (t.TextSize + t.HeadingSize) / 2
	case theme.SizeNameCaptionText:
		return t.TextSize * 0.8
	case theme.SizeNamePadding:
		return t.Padding
	case theme.SizeNameInnerPadding:
		// An entry or a button is its text plus twice this: make it reach
		// the tap target.
		return max(t.Padding, (t.TapTarget-t.TextSize*1.3)/2)
	case theme.SizeNameInlineIcon:
		return t.TextSize * 1.2
	case theme.SizeNameScrollBar:
		return t.Padding * 2
	case theme.SizeNameScrollBarSmall:
		return t.Padding
	case theme.SizeNameInputBorder:
		return 2
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return t.Padding / 2
	}
	return theme.DefaultTheme().Size(n)
}

// mix blends a towards b by f (0: a, 1: b).
func mix(a, b color.Color, f float64) color.Color {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	m := func(x, y uint32) uint8 { return uint8((float64(x)*(1-f) + float64(y)*f) / 257) }
	return color.NRGBA{R: m(ar, br), G: m(ag, bg), B: m(ab, bb), A: 0xff}
}

func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}
