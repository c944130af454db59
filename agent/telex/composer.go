package telex

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	// maxAdopt is the longest word (in letters) that SetText and
	// Backspace take back for editing.
	maxAdopt = 16
	// maxWord is the longest word the Composer composes: a longer run of
	// letters is no Vietnamese word (the longest, nghiêng, has 7), and
	// the next letter starts a new word, so a key costs the same however
	// long the run.
	maxWord = 32
)

// Composer is the Telex state of one text entry. It is fed the keys the
// entry receives, one rune at a time, and Backspace, and answers the whole
// text the entry should show: the word being typed is composed again on
// every key, so a key may change letters before it (vieet + j → việt).
//
// Editing happens at the end of the text only: a UI wrapper puts the
// cursor at the end after each key (its column is
// utf8.RuneCountInString of the text on a one-line entry). When the text
// changes by other means (a paste, a click that moves the cursor, a field
// filled from the ID card), the wrapper calls SetText with the entry's
// text; while the cursor is not at the end it should pass keys to the
// entry untouched.
//
// The zero value is ready to use, in StyleClassic. A Composer is not safe
// for concurrent use; a UI calls it from its event goroutine.
type Composer struct {
	style  Style
	prefix []byte // the text before the word being typed, in NFC
	word   word
}

// NewComposer returns an empty Composer that places tones in style.
func NewComposer(style Style) *Composer {
	return &Composer{style: style}
}

// Style returns the tone placement in use.
func (c *Composer) Style() Style { return c.style }

// SetStyle changes the tone placement; the word being typed shows it
// from the next call of Text.
func (c *Composer) SetStyle(s Style) { c.style = s }

// Key types the rune r and returns the new text. An ASCII letter is a
// Telex key; any other rune ends the word and is added as it is (an
// invalid rune as U+FFFD).
func (c *Composer) Key(r rune) string {
	c.key(r)
	return c.Text()
}

func (c *Composer) key(r rune) {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		if len(c.word.letters) >= maxWord {
			c.commit()
		}
		if r <= 'Z' {
			c.word.key(byte(r)+('a'-'A'), true)
		} else {
			c.word.key(byte(r), false)
		}
	default:
		c.commit()
		if r < utf8.RuneSelf {
			c.prefix = append(c.prefix, byte(r))
			return
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		from := c.lastSegment()
		tail := utf8.AppendRune(append([]byte(nil), c.prefix[from:]...), r)
		c.prefix = norm.NFC.Append(c.prefix[:from], tail...)
	}
}

// lastSegment is where the last segment of the prefix starts: a rune
// added or removed after it can change only the text from there on.
func (c *Composer) lastSegment() int {
	return max(norm.NFC.LastBoundary(c.prefix), 0)
}

// commit ends the word being typed.
func (c *Composer) commit() {
	c.prefix = c.word.appendTo(c.prefix, c.style)
	c.word.reset()
}

// Backspace deletes the last letter shown and returns the new text. A
// tone goes with the letter that carried it (việt → việ, hoàn → hoà in
// StyleModern, but hoà → ho). After deleting the space or punctuation
// that ended a word, that word can be edited again (Vieet, space,
// Backspace, j → Việt).
func (c *Composer) Backspace() string {
	c.backspace()
	return c.Text()
}

func (c *Composer) backspace() {
	if len(c.word.letters) > 0 {
		c.word.backspace(c.style)
		if len(c.word.letters) == 0 {
			c.adopt()
		}
		return
	}
	if _, n := utf8.DecodeLastRune(c.prefix); n > 0 {
		c.prefix = c.prefix[:len(c.prefix)-n]
		from := c.lastSegment()
		tail := append([]byte(nil), c.prefix[from:]...)
		c.prefix = norm.NFC.Append(c.prefix[:from], tail...)
	}
	c.adopt()
}

// SetText replaces the text, as when the entry was changed by other means
// than keys. Its last word is taken back for editing when it is one the
// Composer could have typed in its style, so typing on after
// SetText("Viêt") with j gives "Việt"; otherwise (café, or hoà to a
// StyleClassic Composer) the next letter starts a new word. The text
// itself is kept as given, but for invalid UTF-8, which becomes U+FFFD,
// and normalization to NFC.
func (c *Composer) SetText(s string) {
	c.prefix = norm.NFC.AppendString(c.prefix[:0], strings.ToValidUTF8(s, "\uFFFD"))
	c.word.reset()
	c.adopt()
}

// Reset empties the text.
func (c *Composer) Reset() {
	c.prefix = c.prefix[:0]
	c.word.reset()
}

// Text returns the text to show: valid UTF-8 in normalization form C.
// The word being typed needs no normalization against the text before it:
// its first letter is an ASCII letter or đ, which never combines with
// what precedes it.
func (c *Composer) Text() string {
	var buf [4 * maxWord]byte
	w := c.word.appendTo(buf[:0], c.style)
	var sb strings.Builder
	sb.Grow(len(c.prefix) + len(w))
	sb.Write(c.prefix)
	sb.Write(w)
	return sb.String()
}

// adopt takes the last word of the prefix back as the word being typed,
// when composing it again gives it back unchanged.
func (c *Composer) adopt() {
	if len(c.word.letters) != 0 {
		return
	}
	var rev [maxAdopt + 1]letter
	var tn tone
	n, end := 0, len(c.prefix)
	for end > 0 && n <= maxAdopt {
		r, size := utf8.DecodeLastRune(c.prefix[:end])
		l, t, ok := parseLetter(r)
		if !ok {
			break
		}
		if t != toneNone {
			if tn != toneNone {
				return // two tones: not a word the Composer types
			}
			tn = t
		}
		rev[n] = l
		n++
		end -= size
	}
	if n == 0 || n > maxAdopt {
		return
	}
	w := word{tone: tn}
	for i := n - 1; i >= 0; i-- {
		w.letters = append(w.letters, rev[i])
	}
	run := c.prefix[end:]
	var buf [4 * maxAdopt]byte
	if string(w.appendTo(buf[:0], c.style)) != string(run) {
		return // so that SetText never changes the text it is given
	}
	c.prefix = c.prefix[:end]
	c.word.letters = append(c.word.letters[:0], w.letters...)
	c.word.tone = w.tone
}

// parseLetter reads a letter of a word and its tone back from the rune r.
func parseLetter(r rune) (letter, tone, bool) {
	switch {
	case 'a' <= r && r <= 'z':
		return letter{base: byte(r)}, toneNone, true
	case 'A' <= r && r <= 'Z':
		return letter{base: byte(r) + ('a' - 'A'), upper: true}, toneNone, true
	case r == 'đ':
		return letter{base: 'd', mark: markStroke}, toneNone, true
	case r == 'Đ':
		return letter{base: 'd', mark: markStroke, upper: true}, toneNone, true
	case r < 0xC0 || r > 0x1EFF:
		return letter{}, toneNone, false
	}
	var buf [16]byte
	d := norm.NFD.AppendString(buf[:0], string(r))
	first, size := utf8.DecodeRune(d)
	if first >= utf8.RuneSelf {
		return letter{}, toneNone, false
	}
	l, _, ok := parseLetter(first)
	if !ok || !isVowel(l.base) {
		return letter{}, toneNone, false
	}
	t := toneNone
	for _, m := range string(d[size:]) {
		switch m {
		case '\u0302':
			if l.mark != markNone || (l.base != 'a' && l.base != 'e' && l.base != 'o') {
				return letter{}, toneNone, false
			}
			l.mark = markHat
		case '\u0306':
			if l.mark != markNone || l.base != 'a' {
				return letter{}, toneNone, false
			}
			l.mark = markBreve
		case '\u031B':
			if l.mark != markNone || (l.base != 'o' && l.base != 'u') {
				return letter{}, toneNone, false
			}
			l.mark = markHorn
		default:
			found := false
			for tt := toneAcute; tt <= toneDot; tt++ {
				if toneRune[tt] == m && t == toneNone {
					t, found = tt, true
				}
			}
			if !found {
				return letter{}, toneNone, false
			}
		}
	}
	return l, t, true
}

// Convert types keys into an empty Composer and returns the text, for
// tests and the command line. A U+0008 (backspace) in keys deletes as
// Backspace does.
func Convert(keys string, style Style) string {
	c := Composer{style: style}
	for _, r := range keys {
		if r == '\b' {
			c.backspace()
			continue
		}
		c.key(r)
	}
	return c.Text()
}
