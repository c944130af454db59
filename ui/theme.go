package ui

import (
	"image/color"

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
}

// DefaultTokens are the kiosk's defaults: large text and large tap targets
// for elderly citizens, dark text on a light background.
func DefaultTokens() Tokens {
	return Tokens{
		TextSize:    22,
		HeadingSize: 32,
		Padding:     8,
		TapTarget:   64,
		Foreground:  color.NRGBA{R: 0x1a, G: 0x1a, B: 0x1a, A: 0xff},
		Background:  color.NRGBA{R: 0xfa, G: 0xfa, B: 0xf7, A: 0xff},
		Primary:     color.NRGBA{R: 0x0b, G: 0x5c, B: 0xad, A: 0xff},
		Error:       color.NRGBA{R: 0xb0, G: 0x1c, B: 0x1c, A: 0xff},
		Success:     color.NRGBA{R: 0x1b, G: 0x6e, B: 0x2f, A: 0xff},
	}
}

// kioskTheme is a fyne.Theme drawn from Tokens. Fonts and icons are Fyne's:
// its default font, Noto Sans, has every Vietnamese letter.
type kioskTheme struct {
	t Tokens
}

// NewTheme returns a Fyne theme built from t.
func NewTheme(t Tokens) fyne.Theme { return &kioskTheme{t: t} }

func (k *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	t := k.t
	switch n {
	case theme.ColorNameForeground:
		return t.Foreground
	case theme.ColorNameBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return t.Background
	case theme.ColorNameInputBackground:
		return mix(t.Background, t.Foreground, 0.06)
	case theme.ColorNameButton:
		return mix(t.Background, t.Foreground, 0.10)
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink:
		if n == theme.ColorNameFocus {
			return withAlpha(t.Primary, 0x70)
		}
		return t.Primary
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError, theme.ColorNameForegroundOnSuccess:
		return t.Background
	case theme.ColorNameError:
		return t.Error
	case theme.ColorNameSuccess:
		return t.Success
	case theme.ColorNameSelection:
		return withAlpha(t.Primary, 0x40)
	case theme.ColorNameHover, theme.ColorNamePressed:
		return withAlpha(t.Foreground, 0x18)
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return mix(t.Background, t.Foreground, 0.45)
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled:
		return mix(t.Background, t.Foreground, 0.55)
	case theme.ColorNameDisabledButton:
		return mix(t.Background, t.Foreground, 0.15)
	case theme.ColorNameShadow:
		return withAlpha(t.Foreground, 0x30)
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
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
