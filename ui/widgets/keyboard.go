package widgets

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/i18n"
)

// Key is one key of the on-screen keyboard: large, tapped only. It never
// takes the keyboard focus, which stays in the entry it types into.
type Key struct {
	widget.BaseWidget
	Text     string
	OnTapped func()
}

// NewKey returns a key showing text that calls tapped.
func NewKey(text string, tapped func()) *Key {
	k := &Key{Text: text, OnTapped: tapped}
	k.ExtendBaseWidget(k)
	return k
}

// SetText changes what the key shows.
func (k *Key) SetText(s string) {
	k.Text = s
	k.Refresh()
}

// Tapped presses the key.
func (k *Key) Tapped(*fyne.PointEvent) {
	if k.OnTapped != nil {
		k.OnTapped()
	}
}

// CreateRenderer draws the key: its text centred on a button's colour.
func (k *Key) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(nil)
	txt := canvas.NewText("", nil)
	txt.Alignment = fyne.TextAlignCenter
	r := &keyRenderer{k: k, bg: bg, txt: txt}
	r.Refresh()
	return r
}

type keyRenderer struct {
	k   *Key
	bg  *canvas.Rectangle
	txt *canvas.Text
}

func (r *keyRenderer) Destroy() {}

func (r *keyRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	m := r.txt.MinSize()
	r.txt.Move(fyne.NewPos(0, (size.Height-m.Height)/2))
	r.txt.Resize(fyne.NewSize(size.Width, m.Height))
}

// MinSize is the text and the inner padding around it, as a button's,
// and never narrower than it is high: a key is a tap target both ways.
func (r *keyRenderer) MinSize() fyne.Size {
	th := r.k.Theme()
	pad := th.Size(theme.SizeNameInnerPadding)
	// As high as a button of the theme's text: the larger letters of a
	// small text size take some of the padding.
	m := fyne.MeasureText(r.k.Text, th.Size(theme.SizeNameText), r.txt.TextStyle)
	h := m.Height + 2*pad
	w := fyne.MeasureText(r.k.Text, r.txt.TextSize, r.txt.TextStyle).Width
	return fyne.NewSize(max(w+2*pad, h), h)
}

func (r *keyRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.txt} }

func (r *keyRenderer) Refresh() {
	th := r.k.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(theme.ColorNameButton, v)
	r.bg.StrokeColor = th.Color(theme.ColorNameInputBorder, v)
	r.bg.StrokeWidth = 1
	r.bg.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.txt.Text = r.k.Text
	// Never small on a key: 26 px at the smallest text size.
	r.txt.TextSize = max(th.Size(theme.SizeNameText), 26)
	r.txt.Color = th.Color(theme.ColorNameForeground, v)
	r.txt.TextStyle.Bold = true
	r.bg.Refresh()
	r.txt.Refresh()
}

// mark is a key of the row of Vietnamese marks: what it shows (the mark
// on an a, whatever vowel it goes on), the Telex key it sends to the
// entry's Composer, and what it is called.
type mark struct {
	id, label string
	telex     rune // 0: the circumflex, sent as the word's last a, e or o
	name      i18n.Text
}

var marks = []mark{
	{"mark:s", "á", 's', i18n.T("dấu sắc", "acute accent")},
	{"mark:f", "à", 'f', i18n.T("dấu huyền", "grave accent")},
	{"mark:r", "ả", 'r', i18n.T("dấu hỏi", "hook above")},
	{"mark:x", "ã", 'x', i18n.T("dấu ngã", "tilde")},
	{"mark:j", "ạ", 'j', i18n.T("dấu nặng", "dot below")},
	{"mark:circumflex", "â", 0, i18n.T("dấu mũ", "circumflex")},
	{"mark:w", "ă", 'w', i18n.T("dấu trăng, dấu móc", "breve or horn")},
	{"mark:dd", "đ", 'd', i18n.T("đờ", "d with stroke")},
}

// Keyboard is the on-screen keyboard for touch kiosks: large keys, a
// letters page and a digits page, and a row of Vietnamese marks (the five
// tones, the circumflex, the horn and breve, and đ) for citizens who do
// not know Telex. Its keys type into the target entry through the
// entry's own key handling, so an entry that composes Telex composes what
// the keys type: N g u y e e n x gives Nguyễn, as does N g u y e n, then
// the circumflex and the tilde marks. A name's words start with a capital
// by themselves.
type Keyboard struct {
	widget.BaseWidget
	// OnPress is told of each key pressed, to speak it; live marks a
	// letter or digit typed (the citizen's data).
	OnPress func(name i18n.Text, live bool)

	lang   string
	target *Entry
	digits bool
	shift  bool
	keys   map[string]*Key
	// digitKeys are the digits page's own space and delete keys.
	digitKeys map[string]*Key
	letters   *fyne.Container
	numbers   *fyne.Container
	marks     *fyne.Container
	box       *fyne.Container
	// opener is the one key shown while the keyboard is collapsed.
	opener    *Key
	collapsed bool
}

// NewKeyboard returns a keyboard labelled in lang ("vi" or "en"), showing
// its letters page.
func NewKeyboard(lang string) *Keyboard {
	k := &Keyboard{lang: lang, keys: map[string]*Key{}}
	k.ExtendBaseWidget(k)
	row := func(chars string) *fyne.Container {
		var keys []fyne.CanvasObject
		for _, r := range chars {
			keys = append(keys, k.charKey(r))
		}
		return container.NewGridWithColumns(len(keys), keys...)
	}
	space := func() *Key {
		return NewKey(tr(lang, "Dấu cách", "Space"), func() { k.press(i18n.T("dấu cách", "space"), false); k.typeRune(' ') })
	}
	erase := func() *Key {
		return NewKey(tr(lang, "Xoá", "Delete"), func() { k.press(i18n.T("xoá", "delete"), false); k.backspace() })
	}
	shift := k.key("shift", tr(lang, "Chữ hoa", "Capital"), i18n.T("chữ hoa", "capital"), false, func() {
		k.shift = !k.shift
		k.showCase()
	})
	toDigits := k.key("page:digits", "123", i18n.T("trang chữ số", "digits page"), false, func() { k.showDigits(true) })
	toLetters := k.key("page:letters", "ABC", i18n.T("trang chữ cái", "letters page"), false, func() { k.showDigits(false) })
	hide := func() *Key {
		return NewKey(tr(lang, "Ẩn", "Hide"), func() { k.press(i18n.T("ẩn bàn phím", "hide the keyboard"), false); k.Collapse() })
	}
	k.keys["space"], k.keys["backspace"], k.keys["hide"] = space(), erase(), hide()
	k.letters = container.NewVBox(row("qwertyuiop"), row("asdfghjkl"), row("zxcvbnm"),
		container.NewBorder(nil, nil, container.NewHBox(shift, toDigits, k.keys["hide"]), k.keys["backspace"], k.keys["space"]))
	k.digitKeys = map[string]*Key{"space": space(), "backspace": erase(), "hide": hide()}
	k.numbers = container.NewVBox(row("1234567890"), row("-/,.@_()"),
		container.NewBorder(nil, nil, container.NewHBox(toLetters, k.digitKeys["hide"]), k.digitKeys["backspace"], k.digitKeys["space"]))
	k.opener = k.key("show", tr(lang, "Hiện bàn phím", "Show the keyboard"), i18n.T("hiện bàn phím", "show the keyboard"), false, k.Expand)
	var mk []fyne.CanvasObject
	for _, m := range marks {
		mk = append(mk, k.key(m.id, m.label, m.name, false, func() { k.mark(m) }))
	}
	k.marks = container.NewGridWithColumns(len(mk), mk...)
	k.numbers.Hide()
	k.opener.Hide()
	k.box = container.NewVBox(k.marks, k.letters, k.numbers, k.opener)
	k.showCase()
	return k
}

// CreateRenderer draws the keyboard on the screen's background, opaque
// over anything scrolled behind it.
func (k *Keyboard) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(k.Theme().Color(theme.ColorNameBackground, fyne.CurrentApp().Settings().ThemeVariant()))
	return &keyboardRenderer{k: k, bg: bg, stack: container.NewStack(bg, k.box)}
}

type keyboardRenderer struct {
	k     *Keyboard
	bg    *canvas.Rectangle
	stack *fyne.Container
}

func (r *keyboardRenderer) Destroy()                     {}
func (r *keyboardRenderer) Layout(s fyne.Size)           { r.stack.Resize(s) }
func (r *keyboardRenderer) MinSize() fyne.Size           { return r.stack.MinSize() }
func (r *keyboardRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.stack} }
func (r *keyboardRenderer) Refresh() {
	r.bg.FillColor = r.k.Theme().Color(theme.ColorNameBackground, fyne.CurrentApp().Settings().ThemeVariant())
	r.bg.Refresh()
	r.stack.Refresh()
}

// Key is the key with the given id: a letter or digit ("a", "1"),
// "space", "backspace", "shift", "page:digits", "page:letters", "hide",
// "show" (the collapsed keyboard's one key), or a mark
// ("mark:s", "mark:f", "mark:r", "mark:x", "mark:j", "mark:circumflex",
// "mark:w", "mark:dd"); nil when there is none.
func (k *Keyboard) Key(id string) *Key {
	if key := k.digitKeys[id]; key != nil && k.digits {
		return key
	}
	return k.keys[id]
}

// Target is the entry the keys type into, nil when none.
func (k *Keyboard) Target() *Entry { return k.target }

// Marks reports whether the row of Vietnamese marks is shown.
func (k *Keyboard) Marks() bool { return k.marks.Visible() }

// Digits reports whether the digits page is shown.
func (k *Keyboard) Digits() bool { return k.digits }

// SetTarget makes the keys type into e, on the page its kind needs; the
// marks show only for an entry that composes Telex.
func (k *Keyboard) SetTarget(e *Entry) {
	k.target = e
	if e == nil {
		return
	}
	k.shift = false
	k.digits = e.Kind == KindDigits
	k.paint()
}

// Collapse folds the keyboard away to one key that opens it again, to
// leave the screen to the form.
func (k *Keyboard) Collapse() {
	k.collapsed = true
	k.paint()
}

// Expand opens the keyboard again.
func (k *Keyboard) Expand() {
	k.collapsed = false
	k.paint()
}

// Collapsed reports whether the keyboard is folded away.
func (k *Keyboard) Collapsed() bool { return k.collapsed }

func (k *Keyboard) showDigits(on bool) {
	k.digits = on
	k.paint()
}

// paint shows the page, the marks and the opener the state asks for.
func (k *Keyboard) paint() {
	open := !k.collapsed
	setVisible(k.numbers, open && k.digits)
	setVisible(k.letters, open && !k.digits)
	setVisible(k.marks, open && k.target != nil && k.target.Telex())
	setVisible(k.opener, !open)
	k.showCase()
	relayout(k)
}

// key makes a key registered as id that tells OnPress its name and
// then runs f.
func (k *Keyboard) key(id, label string, name i18n.Text, live bool, f func()) *Key {
	key := NewKey(label, func() {
		k.press(name, live)
		f()
	})
	k.keys[id] = key
	return key
}

func (k *Keyboard) charKey(r rune) *Key {
	s := string(r)
	return k.key(s, s, i18n.T(s, s), true, func() {
		if unicode.IsLetter(r) && k.upper() {
			r := unicode.ToUpper(r)
			k.shift = false
			k.typeRune(r)
			return
		}
		k.typeRune(r)
	})
}

func (k *Keyboard) press(name i18n.Text, live bool) {
	if k.OnPress != nil {
		k.OnPress(name, live)
	}
}

// upper reports whether the next letter is a capital: shift, or the
// start of a word of a name (shift then gives a small letter).
func (k *Keyboard) upper() bool {
	auto := false
	if k.target != nil && k.target.Kind == KindName {
		t := k.target.Text
		auto = t == "" || strings.HasSuffix(t, " ")
	}
	return auto != k.shift
}

// showCase labels the letter keys in the case they type.
func (k *Keyboard) showCase() {
	up := k.upper()
	for _, r := range "qwertyuiopasdfghjklzxcvbnm" {
		s := string(r)
		if up {
			s = strings.ToUpper(s)
		}
		if key := k.keys[string(r)]; key != nil && key.Text != s {
			key.SetText(s)
		}
	}
}

// typeRune types r into the target as a key of the physical keyboard
// does, and gives the target the focus so its cursor shows.
func (k *Keyboard) typeRune(r rune) {
	if k.target == nil {
		return
	}
	k.focusTarget()
	k.target.TypedRune(r)
	k.showCase()
}

func (k *Keyboard) backspace() {
	if k.target == nil {
		return
	}
	k.focusTarget()
	k.target.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	k.showCase()
}

// mark sends the Telex key of m: a tone, the horn or breve, đ, or the
// circumflex as the word's last a, e or o typed again.
func (k *Keyboard) mark(m mark) {
	if k.target == nil {
		return
	}
	text := k.target.Text
	word := text[strings.LastIndexAny(text, " ,.-/")+1:]
	switch m.telex {
	case 0:
		// The Composer puts the circumflex on the word's a, e or o
		// when that vowel is typed again.
		var v rune
		for _, r := range word {
			if b := baseVowel(r); b != 0 {
				v = b
			}
		}
		if v == 0 {
			return
		}
		k.typeRune(v)
	case 'd':
		if last, _ := utf8.DecodeLastRuneInString(word); last == 'd' || last == 'D' {
			k.typeRune('d')
			return
		}
		first := 'd'
		if k.upper() {
			first = 'D'
		}
		k.shift = false
		k.typeRune(first)
		k.typeRune('d')
	default:
		k.typeRune(m.telex)
	}
}

func (k *Keyboard) focusTarget() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(k.target); c != nil && c.Focused() != fyne.Focusable(k.target) {
		c.Focus(k.target)
	}
}

// baseVowel is a, e or o for those letters with any tone or mark, 0 for
// any other rune.
func baseVowel(r rune) rune {
	for _, v := range []struct {
		base rune
		all  string
	}{
		{'a', "aáàảãạâấầẩẫậăắằẳẵặ"}, {'e', "eéèẻẽẹêếềểễệ"}, {'o', "oóòỏõọôốồổỗộơớờởỡợ"},
	} {
		if strings.ContainsRune(v.all, unicode.ToLower(r)) {
			return v.base
		}
	}
	return 0
}
