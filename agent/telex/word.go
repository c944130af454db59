package telex

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// mark is the diacritic that makes a letter of its own (â, ă, ê, ô, ơ,
// ư, đ), as opposed to the tone.
type mark uint8

const (
	markNone   mark = iota
	markHat         // â ê ô
	markBreve       // ă
	markHorn        // ơ ư
	markStroke      // đ
)

// tone is one of the five marked tones; toneNone is ngang.
type tone uint8

const (
	toneNone  tone = iota
	toneAcute      // sắc, key s
	toneGrave      // huyền, key f
	toneHook       // hỏi, key r
	toneTilde      // ngã, key x
	toneDot        // nặng, key j
)

// combining are the Unicode combining marks of each mark and tone.
var (
	markRune = [...]rune{markHat: '\u0302', markBreve: '\u0306', markHorn: '\u031B'}
	toneRune = [...]rune{toneAcute: '\u0301', toneGrave: '\u0300', toneHook: '\u0309',
		toneTilde: '\u0303', toneDot: '\u0323'}
)

// letter is one letter of the word being typed.
type letter struct {
	base  byte // the ASCII letter, lower case: 'd' for đ, 'o' for ơ
	mark  mark
	upper bool
	// pair is set on a u that got its horn from one w on "uo": it shows
	// only once something follows the o (thuở, but hương).
	pair bool
	// lone is set on a ư typed as a w with no vowel before it, so that a
	// second w gives back a plain w.
	lone bool
}

func isVowel(b byte) bool {
	switch b {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// word is the word being typed: its letters, one tone, and the keys that
// were undone in it and so are plain letters until the word ends.
type word struct {
	letters []letter
	tone    tone
	raw     uint32 // bit k-'a' for each key k that is now a plain letter
}

func (w *word) reset() {
	w.letters = w.letters[:0]
	w.tone = toneNone
	w.raw = 0
}

// syllable is how a word splits: letters[:start] are the initial
// consonant, letters[start:end] the vowels, letters[end:] the final.
type syllable struct {
	start, end int
	// valid: the initial and the final are Vietnamese and there is a
	// vowel. Keys transform only valid words.
	valid bool
}

// parse splits the word. "qu" and "gi" before another vowel count as
// initial consonants.
func (w *word) parse() syllable {
	ls := w.letters
	n := len(ls)
	i := 0
	for i < n && !isVowel(ls[i].base) {
		i++
	}
	if i < n-1 && isVowel(ls[i+1].base) &&
		((i == 1 && ls[0].base == 'q' && ls[i].base == 'u') ||
			(i == 1 && ls[0].base == 'g' && ls[i].base == 'i')) {
		i++
	}
	j := i
	for j < n && isVowel(ls[j].base) {
		j++
	}
	s := syllable{start: i, end: j}
	s.valid = j > i && validInitial(ls[:i]) && validFinal(ls[j:])
	return s
}

// validInitial reports whether ls spell a Vietnamese initial consonant.
func validInitial(ls []letter) bool {
	if len(ls) > 3 {
		return false
	}
	var b [3]byte
	for i, l := range ls {
		b[i] = l.base
		if l.mark == markStroke {
			b[i] = 'D' // đ
		} else if l.mark != markNone {
			return false
		}
	}
	switch string(b[:len(ls)]) {
	case "", "b", "c", "ch", "d", "D", "g", "gh", "gi", "h", "k", "kh", "l", "m",
		"n", "ng", "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x":
		return true
	}
	return false
}

// validFinal reports whether ls spell a final consonant. Every prefix of
// a final is one too, so a word stays valid while its final is typed.
func validFinal(ls []letter) bool {
	if len(ls) > 2 {
		return false
	}
	var b [2]byte
	for i, l := range ls {
		if l.mark != markNone {
			return false
		}
		b[i] = l.base
	}
	switch string(b[:len(ls)]) {
	case "", "c", "ch", "k", "m", "n", "ng", "nh", "p", "t":
		return true
	}
	return false
}

// shownMark is the mark letter i shows: a pair's u shows its horn only
// when a letter follows the o.
func (w *word) shownMark(i int) mark {
	l := w.letters[i]
	if l.pair && i+2 >= len(w.letters) {
		return markNone
	}
	return l.mark
}

// tonePos is the index of the letter that carries the tone, or -1.
func (w *word) tonePos(style Style) int {
	if w.tone == toneNone {
		return -1
	}
	syl := w.parse()
	s, e := syl.start, syl.end
	if e == s {
		return -1
	}
	for i := e - 1; i >= s; i-- {
		switch w.shownMark(i) {
		case markHat, markBreve, markHorn:
			return i
		}
	}
	switch {
	case e-s == 1:
		return s
	case e < len(w.letters): // a final consonant follows
		return e - 1
	case e-s == 2:
		if style == StyleModern {
			switch string([]byte{w.letters[s].base, w.letters[s+1].base}) {
			case "oa", "oe", "uy":
				return s + 1
			}
		}
		return s
	default:
		return s + 1
	}
}

// appendTo appends the word in normalization form C: one precomposed
// rune per letter.
func (w *word) appendTo(dst []byte, style Style) []byte {
	at := w.tonePos(style)
	for i, l := range w.letters {
		t := toneNone
		if i == at {
			t = w.tone
		}
		up := 0
		if l.upper {
			up = 1
		}
		r := precomposed[l.base-'a'][w.shownMark(i)][t][up]
		if r == 0 { // a mark the keys never put on this letter
			r = precomposed[l.base-'a'][markNone][toneNone][up]
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// precomposed[letter-'a'][mark][tone][upper] is the letter with its mark
// and tone as one rune in NFC, or 0 where Unicode has no such letter.
var precomposed = func() (t [26][markStroke + 1][toneDot + 1][2]rune) {
	for b := 'a'; b <= 'z'; b++ {
		for m := markNone; m <= markStroke; m++ {
			for tn := toneNone; tn <= toneDot; tn++ {
				for up := range 2 {
					base := b
					if up == 1 {
						base -= 'a' - 'A'
					}
					nfd := []rune{base}
					switch {
					case m == markStroke && b == 'd' && tn == toneNone:
						nfd = []rune{[]rune("đĐ")[up]}
					case m == markStroke:
						continue
					case m != markNone:
						nfd = append(nfd, markRune[m])
					}
					if tn != toneNone {
						nfd = append(nfd, toneRune[tn])
					}
					if r := []rune(norm.NFC.String(string(nfd))); len(r) == 1 {
						t[b-'a'][m][tn][up] = r[0]
					}
				}
			}
		}
	}
	return t
}()

// keyBit is the bit of key k in word.raw.
func keyBit(k byte) uint32 { return 1 << (k - 'a') }

// key applies one lower-case ASCII letter key to the word.
func (w *word) key(k byte, upper bool) {
	if w.raw&keyBit(k) == 0 {
		done := false
		switch k {
		case 's':
			done = w.setTone(toneAcute, k, upper)
		case 'f':
			done = w.setTone(toneGrave, k, upper)
		case 'r':
			done = w.setTone(toneHook, k, upper)
		case 'x':
			done = w.setTone(toneTilde, k, upper)
		case 'j':
			done = w.setTone(toneDot, k, upper)
		case 'z':
			if w.tone != toneNone {
				w.tone = toneNone
				done = true
			}
		case 'a', 'e', 'o':
			done = w.hat(k, upper)
		case 'w':
			done = w.horn(upper)
		case 'd':
			done = w.stroke(upper)
		}
		if done {
			w.settleTone()
			return
		}
	}
	w.letters = append(w.letters, letter{base: k, upper: upper})
}

// settleTone drops the tone of a word that has no vowel left.
func (w *word) settleTone() {
	if s := w.parse(); s.end == s.start {
		w.tone = toneNone
	}
}

// undo marks key k as a plain letter for the rest of the word and types it.
func (w *word) undo(k byte, upper bool) {
	w.raw |= keyBit(k)
	w.letters = append(w.letters, letter{base: k, upper: upper})
}

func (w *word) setTone(t tone, k byte, upper bool) bool {
	if !w.parse().valid {
		return false
	}
	if w.tone == t {
		w.tone = toneNone
		w.undo(k, upper)
		return true
	}
	w.tone = t
	return true
}

// hat applies a, e or o: the circumflex on the last such vowel of the
// vowel group, with at most i, u and y after it.
func (w *word) hat(k byte, upper bool) bool {
	syl := w.parse()
	if !syl.valid {
		return false
	}
	for i := syl.end - 1; i >= syl.start; i-- {
		l := &w.letters[i]
		if l.base != k {
			if l.base == 'a' || l.base == 'e' || l.base == 'o' {
				// Only i, u and y follow a circumflexed vowel (câu, cây,
				// tuổi): the o of ngoeo is a letter, not a mark.
				return false
			}
			continue
		}
		if l.mark == markHat {
			l.mark = markNone
			w.undo(k, upper)
			return true
		}
		if k == 'o' && i > 0 && w.letters[i-1].pair {
			// ươ or uơ from one w, then o: uô.
			w.letters[i-1].mark, w.letters[i-1].pair = markNone, false
		}
		l.mark = markHat
		return true
	}
	return false
}

// horn applies w: the horn or breve on the vowels Telex gives it to.
func (w *word) horn(upper bool) bool {
	syl := w.parse()
	if syl.end == syl.start && syl.end == len(w.letters) && validInitial(w.letters) {
		w.letters = append(w.letters, letter{base: 'u', mark: markHorn, upper: upper, lone: true})
		return true
	}
	if !syl.valid {
		return false
	}
	var buf [2]int
	targets := w.hornTargets(syl, &buf)
	if len(targets) == 0 {
		return false
	}
	marked := true
	for _, i := range targets {
		if w.letters[i].mark != hornMark(w.letters[i].base) {
			marked = false
		}
	}
	if marked { // undo
		lone := false
		for _, i := range targets {
			l := &w.letters[i]
			l.mark, l.pair = markNone, false
			if l.lone {
				l.base, l.lone, lone = 'w', false, true
			}
		}
		w.raw |= keyBit('w')
		if !lone {
			w.letters = append(w.letters, letter{base: 'w', upper: upper})
		}
		return true
	}
	if len(targets) == 2 { // u and o
		u := &w.letters[targets[0]]
		if u.mark != markHorn {
			u.mark, u.pair = markHorn, true
		}
	}
	l := &w.letters[targets[len(targets)-1]]
	l.mark = hornMark(l.base)
	return true
}

func hornMark(b byte) mark {
	if b == 'a' {
		return markBreve
	}
	return markHorn
}

// hornTargets are the letters a w marks: both of "uo", else the u of "ua"
// (ưa), else the last a (ă), else the last o (ơ), else the first u (ư).
func (w *word) hornTargets(syl syllable, buf *[2]int) []int {
	ls := w.letters[syl.start:syl.end]
	s := syl.start
	for i := 0; i+1 < len(ls); i++ {
		if ls[i].base == 'u' && ls[i+1].base == 'o' {
			buf[0], buf[1] = s+i, s+i+1
			return buf[:2]
		}
	}
	if len(ls) == 2 && ls[0].base == 'u' && ls[1].base == 'a' && ls[1].mark == markNone {
		buf[0] = s
		return buf[:1]
	}
	for _, b := range []byte{'a', 'o'} {
		for i := len(ls) - 1; i >= 0; i-- {
			if ls[i].base == b {
				buf[0] = s + i
				return buf[:1]
			}
		}
	}
	for i := range ls {
		if ls[i].base == 'u' {
			buf[0] = s + i
			return buf[:1]
		}
	}
	return nil
}

// stroke applies d: đ for a d at the start of the word.
func (w *word) stroke(upper bool) bool {
	if len(w.letters) == 0 || w.letters[0].base != 'd' {
		return false
	}
	l := &w.letters[0]
	if l.mark == markStroke {
		if len(w.letters) != 1 {
			return false
		}
		l.mark = markNone
		w.undo('d', upper)
		return true
	}
	if len(w.letters) == 1 || w.parse().valid {
		l.mark = markStroke
		return true
	}
	return false
}

// backspace removes the last letter as shown; the tone goes with the
// letter that carried it.
func (w *word) backspace(style Style) {
	n := len(w.letters)
	if n == 0 {
		return
	}
	if w.tonePos(style) == n-1 {
		w.tone = toneNone
	}
	for i := range w.letters {
		w.letters[i].mark = w.shownMark(i)
		w.letters[i].pair = false
	}
	w.letters = w.letters[:n-1]
	w.raw = 0
	w.settleTone()
}
