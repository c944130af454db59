package telex

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// wordLine is one line of testdata/words.txt: the text in each style.
type wordLine struct {
	classic, modern string
	line            int
}

func readWords(t *testing.T) []wordLine {
	t.Helper()
	f, err := os.Open("testdata/words.txt")
	if err != nil {
		t.Fatalf("open word list: %v", err)
	}
	defer f.Close()
	var words []wordLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		classic, modern, found := strings.Cut(line, "\t")
		if !found {
			modern = classic
		}
		for _, s := range []string{classic, modern} {
			if !norm.NFC.IsNormalString(s) {
				t.Fatalf("testdata/words.txt:%d: %q is not in NFC", n, s)
			}
		}
		words = append(words, wordLine{classic: classic, modern: modern, line: n})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read word list: %v", err)
	}
	return words
}

// toneKeys are the Telex keys of the combining tone marks.
var toneKeys = map[rune]rune{'\u0301': 's', '\u0300': 'f', '\u0309': 'r', '\u0303': 'x', '\u0323': 'j'}

// telexKeys spells text in Telex the way a person taught Telex types it:
// each mark right after its letter (aa, aw, ow, dd), and the tone key
// right after the vowel that shows it or, with atEnd, at the end of the
// word. It knows nothing of where tones go: it reads them off the text.
func telexKeys(t *testing.T, text string, atEnd bool) string {
	t.Helper()
	var b strings.Builder
	var pending rune // a tone key held until the end of the word
	flush := func() {
		if pending != 0 {
			b.WriteRune(pending)
			pending = 0
		}
	}
	for _, r := range text {
		if !unicode.IsLetter(r) {
			flush()
			b.WriteRune(r)
			continue
		}
		upper := unicode.IsUpper(r)
		if r == 'đ' || r == 'Đ' {
			b.WriteString(map[bool]string{false: "dd", true: "DD"}[upper])
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		base := d[0]
		if base >= utf8.RuneSelf {
			t.Fatalf("telexKeys: %q is no Vietnamese letter", r)
		}
		b.WriteRune(base)
		for _, m := range d[1:] {
			switch m {
			case '\u0302':
				b.WriteRune(base)
			case '\u0306', '\u031B':
				b.WriteRune(map[bool]rune{false: 'w', true: 'W'}[upper])
			default:
				k, ok := toneKeys[m]
				if !ok {
					t.Fatalf("telexKeys: %q has the mark %U", r, m)
				}
				if upper {
					k = unicode.ToUpper(k)
				}
				if atEnd {
					pending = k
				} else {
					b.WriteRune(k)
				}
			}
		}
	}
	flush()
	return b.String()
}

// TestConvertWords types every line of testdata/words.txt in Telex, with
// the tone after its vowel and at the end of the word, in both styles.
func TestConvertWords(t *testing.T) {
	words := readWords(t)
	if len(words) < 100 {
		t.Fatalf("the word list has %d lines, want at least 100", len(words))
	}
	for _, w := range words {
		for _, atEnd := range []bool{false, true} {
			keys := telexKeys(t, w.classic, atEnd)
			if got := Convert(keys, StyleClassic); got != w.classic {
				t.Errorf("line %d: Convert(%q, classic) = %q, want %q", w.line, keys, got, w.classic)
			}
			keys = telexKeys(t, w.modern, atEnd)
			if got := Convert(keys, StyleModern); got != w.modern {
				t.Errorf("line %d: Convert(%q, modern) = %q, want %q", w.line, keys, got, w.modern)
			}
		}
	}
}

// TestConvertKeys pins the rules the word list does not show: free
// typing, undo, case, non-letters, backspace and the style pairs.
func TestConvertKeys(t *testing.T) {
	tests := []struct {
		keys    string
		classic string
		modern  string // "" when the same as classic
	}{
		// The tone right after the vowel or at the end.
		{"vieetj", "việt", ""},
		{"vieejt", "việt", ""},
		{"quoocs", "quốc", ""},
		{"quoosc", "quốc", ""},
		{"giuwax", "giữa", ""},
		{"giuwxa", "giữa", ""},
		{"gifn", "gìn", ""},
		{"gins", "gín", ""},
		{"gif", "gì", ""},
		{"gias", "giá", ""},
		{"quys", "quý", ""},
		{"quyf", "quỳ", ""},
		{"nguwowif", "người", ""},
		{"dduwowcj", "được", ""},
		{"truwowngf", "trường", ""},
		{"khuya", "khuya", ""},
		{"nguyeenx", "nguyễn", ""},
		// The style pairs, and the same vowels before a final consonant
		// or inside a longer group, where both styles agree.
		{"hoaf", "hòa", "hoà"},
		{"hofa", "hòa", "hoà"},
		{"thuyr", "thủy", "thuỷ"},
		{"thuys", "thúy", "thuý"},
		{"khoer", "khỏe", "khoẻ"},
		{"hoanf", "hoàn", ""},
		{"hoafn", "hoàn", ""},
		{"huyts", "huýt", ""},
		{"ngoaif", "ngoài", ""},
		{"khuyur", "khuỷu", ""},
		{"muas", "múa", ""},
		{"mias", "mía", ""},
		// Marks typed after the final consonant or after the group.
		{"tienges", "tiếng", ""},
		{"nguoiwf", "người", ""},
		{"dduocwj", "được", ""},
		{"hoacwj", "hoặc", ""},
		{"dad", "đa", ""},
		{"caya", "cây", ""},
		{"tuooir", "tuổi", ""},
		{"ngoeoj", "ngoẹo", ""},
		{"khuayas", "khuấy", ""},
		// uơ where nothing follows, ươ once something does.
		{"thuowr", "thuở", ""},
		{"huow", "huơ", ""},
		{"huowng", "hương", ""},
		{"quow", "quơ", ""},
		{"huowo", "huô", ""},
		// ư from w: on "ua", and a w with no vowel before it.
		{"muaw", "mưa", ""},
		{"cuwar", "cửa", ""},
		{"w", "ư", ""},
		{"nhw", "như", ""},
		{"nhwngx", "những", ""},
		{"tw nhaan", "tư nhân", ""},
		// Repeating a key undoes it and types it; it stays plain after.
		{"aaa", "aa", ""},
		{"aaaa", "aaa", ""},
		{"ass", "as", ""},
		{"asss", "ass", ""},
		{"bass", "bas", ""},
		{"eee", "ee", ""},
		{"ooo", "oo", ""},
		{"aww", "aw", ""},
		{"oww", "ow", ""},
		{"uww", "uw", ""},
		{"ww", "w", ""},
		{"www", "ww", ""},
		{"ddd", "dd", ""},
		{"huowwng", "huowng", ""},
		{"xoong", "xông", ""},
		{"xooong", "xoong", ""},
		// z removes the tone; another tone key replaces it.
		{"asz", "a", ""},
		{"vieetjz", "viêt", ""},
		{"z", "z", ""},
		{"asf", "à", ""},
		{"vieetjs", "viết", ""},
		// Case is kept per letter.
		{"DDa", "Đa", ""},
		{"Dda", "Đa", ""},
		{"Vieetj", "Việt", ""},
		{"VIEETJ", "VIỆT", ""},
		{"VIeetJ", "VIệt", ""},
		{"AAA", "AA", ""},
		{"NGUWOWIF", "NGƯỜI", ""},
		{"W", "Ư", ""},
		{"DDAWKS LAWKS", "ĐẮK LẮK", ""},
		// Words that cannot be Vietnamese stay as typed.
		{"class", "class", ""},
		{"Facebook", "Facebook", ""},
		{"email", "email", ""},
		{"fax", "fax", ""},
		// Words that can be Vietnamese change, as in every Telex input
		// method: the reason doc.go keeps it off e-mail fields.
		{"hoanganh@gmail.com", "hoângnh@gmail.com", ""},
		// Non-letters end the word and stay as typed.
		{"Vieetj Nam.", "Việt Nam.", ""},
		{"soos 12, ddwowngf 3/4", "số 12, đường 3/4", ""},
		{"a-s", "a-s", ""},
		{"as1s", "á1s", ""},
		{"email@vieetj.vn", "email@việt.vn", ""},
		{"\u00e9s", "\u00e9s", ""},
		{"", "", ""},
		// Backspace (U+0008) removes the last letter shown, and the tone
		// with the letter that carried it.
		{"vieetj\b", "việ", ""},
		{"vieetj\b\b", "vi", ""},
		{"dduwowcj\b", "đượ", ""},
		{"thuowr\b", "thu", ""},
		{"hoanf\b", "hòa", "hoà"},
		{"hoaf\b", "hò", "ho"},
		{"ass\bs", "á", ""},
		{"Vieet \bj", "Việt", ""},
		{"Vieetj \b\b", "Việ", ""},
		{"\b\ba", "a", ""},
		{"ab\b\b\b", "", ""},
	}
	for _, tt := range tests {
		for _, style := range []Style{StyleClassic, StyleModern} {
			want := tt.classic
			if style == StyleModern && tt.modern != "" {
				want = tt.modern
			}
			if got := Convert(tt.keys, style); got != want {
				t.Errorf("Convert(%q, %v) = %q, want %q", tt.keys, style, got, want)
			}
		}
	}
}

// TestComposerShowsEachKey checks the text after every key, as an entry
// shows it: the word is composed again, so keys change earlier letters.
func TestComposerShowsEachKey(t *testing.T) {
	var c Composer
	keys := "Nguyeenx Thij Huwowngf"
	want := []string{"N", "Ng", "Ngu", "Nguy", "Nguye", "Nguyê", "Nguyên", "Nguyễn",
		"Nguyễn ", "Nguyễn T", "Nguyễn Th", "Nguyễn Thi", "Nguyễn Thị",
		"Nguyễn Thị ", "Nguyễn Thị H", "Nguyễn Thị Hu", "Nguyễn Thị Hư", "Nguyễn Thị Hưo",
		"Nguyễn Thị Hươ", "Nguyễn Thị Hươn", "Nguyễn Thị Hương", "Nguyễn Thị Hường"}
	for i, r := range keys {
		if got := c.Key(r); got != want[i] {
			t.Fatalf("after %q: Key(%q) = %q, want %q", keys[:i], r, got, want[i])
		}
	}
	if got := c.Text(); got != want[len(want)-1] {
		t.Errorf("Text() = %q, want %q", got, want[len(want)-1])
	}
	for _, w := range []string{"Nguyễn Thị Hườn", "Nguyễn Thị Hườ", "Nguyễn Thị Hư"} {
		if got := c.Backspace(); got != w {
			t.Fatalf("Backspace() = %q, want %q", got, w)
		}
	}
	c.Reset()
	if got := c.Text(); got != "" {
		t.Errorf("after Reset, Text() = %q", got)
	}
}

// TestSetTextTakesLastWordBack: after SetText the last word can be typed
// on when the Composer could have typed it, and is left alone otherwise.
func TestSetTextTakesLastWordBack(t *testing.T) {
	tests := []struct {
		style       Style
		text, keys  string
		want        string
		description string
	}{
		{StyleClassic, "Viet", "j", "Viẹt", "plain word takes a tone"},
		{StyleClassic, "Viêt", "j", "Việt", "word with a mark takes a tone"},
		{StyleClassic, "Nguyên", "x", "Nguyễn", "marked word takes a tone"},
		{StyleClassic, "Họ và tên: Nguyên", "x", "Họ và tên: Nguyễn", "only the last word"},
		{StyleClassic, "Việt", "j", "Viêtj", "repeated tone undoes it"},
		{StyleModern, "hoà", "s", "hoá", "a word in the Composer's style is taken back"},
		{StyleClassic, "hoà", "s", "hoàs", "a word in the other style is left alone"},
		{StyleClassic, "café", "s", "cafés", "a word the Composer would not type is left alone"},
		{StyleClassic, "số ", "a", "số a", "after a space a new word starts"},
		{StyleClassic, "e\u0301", "x", "ẽ", "text not in NFC is normalized first"},
		{StyleModern, "Khánh Hoà", "\b", "Khánh Ho", "backspace takes the tone with its letter"},
		{StyleClassic, "", "vieetj", "việt", "empty text"},
	}
	for _, tt := range tests {
		c := NewComposer(tt.style)
		c.SetText(tt.text)
		for _, r := range tt.keys {
			if r == '\b' {
				c.Backspace()
			} else {
				c.Key(r)
			}
		}
		if got := c.Text(); got != tt.want {
			t.Errorf("%s: SetText(%q) then %q = %q, want %q", tt.description, tt.text, tt.keys, got, tt.want)
		}
	}
}

// TestSetStyleRecomposesTheWord: the style applies to the word being
// typed as soon as it is changed.
func TestSetStyleRecomposesTheWord(t *testing.T) {
	c := NewComposer(StyleModern)
	c.Key('h')
	c.Key('o')
	c.Key('a')
	if got := c.Key('f'); got != "hoà" {
		t.Fatalf("modern: %q, want hoà", got)
	}
	c.SetStyle(StyleClassic)
	if c.Style() != StyleClassic {
		t.Fatalf("Style() = %v after SetStyle(StyleClassic)", c.Style())
	}
	if got := c.Text(); got != "hòa" {
		t.Errorf("classic: %q, want hòa", got)
	}
}

// TestOutputIsNFC: every letter comes out as one precomposed rune.
func TestOutputIsNFC(t *testing.T) {
	for _, keys := range []string{"Nguyeenx Thij Huwowngf", "DDawks Lawks", "thuowr", "\u0301a\u0301s",
		"a\u0323j", "x\u0301\u0301\bs", "\xff\xfeas", "\u1100\u1161 as"} {
		for _, style := range []Style{StyleClassic, StyleModern} {
			got := Convert(keys, style)
			if !utf8.ValidString(got) || !norm.NFC.IsNormalString(got) {
				t.Errorf("Convert(%q, %v) = %q, not valid NFC", keys, style, got)
			}
		}
	}
	if got := Convert("Nguyeenx", StyleClassic); utf8.RuneCountInString(got) != 6 {
		t.Errorf("Nguyễn is %d runes, want 6 precomposed", utf8.RuneCountInString(got))
	}
}

// FuzzConvert: Convert never panics, returns valid UTF-8 in NFC, the
// text it returns survives SetText unchanged, and Backspace takes it
// apart one rune at a time.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{"vieetj", "Nguyeenx Thij Huwowngf", "thuowr\b", "aaa ass ww ddd", "\u00d5A",
		"DDawks Lawks", "\u0301a", "\xff", "uouwoaw\b\b\bzzz", "giuwax quys gifn"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, keys string, modern bool) {
		style := StyleClassic
		if modern {
			style = StyleModern
		}
		got := Convert(keys, style)
		if !utf8.ValidString(got) {
			t.Fatalf("Convert(%q) = %q: invalid UTF-8", keys, got)
		}
		if !norm.NFC.IsNormalString(got) {
			t.Fatalf("Convert(%q) = %q: not NFC", keys, got)
		}
		c := NewComposer(style)
		c.SetText(got)
		if again := c.Text(); again != got {
			t.Fatalf("SetText(%q) then Text() = %q", got, again)
		}
		// Backspace removes one rune at a time down to nothing.
		n := utf8.RuneCountInString(got)
		for i := n - 1; i >= 0; i-- {
			text := c.Backspace()
			if utf8.RuneCountInString(text) != i || !norm.NFC.IsNormalString(text) {
				t.Fatalf("SetText(%q), %d backspaces: %q, want %d runes in NFC", got, n-i, text, i)
			}
		}
		c.SetText(got)
		if after := c.Key(' '); after != got+" " {
			t.Fatalf("SetText(%q) then space = %q", got, after)
		}
	})
}

// TestEveryVietnameseLetterIsOneRune: each of the 146 Vietnamese letters
// the keys can make (12 vowels with 6 tones and đ, in both cases) has its
// precomposed rune, so no mark or tone is ever dropped.
func TestEveryVietnameseLetterIsOneRune(t *testing.T) {
	vowels := []struct {
		base byte
		mark mark
	}{{'a', markNone}, {'a', markBreve}, {'a', markHat}, {'e', markNone}, {'e', markHat},
		{'i', markNone}, {'o', markNone}, {'o', markHat}, {'o', markHorn},
		{'u', markNone}, {'u', markHorn}, {'y', markNone}}
	seen := map[rune]bool{}
	for _, v := range vowels {
		for tn := toneNone; tn <= toneDot; tn++ {
			for up := range 2 {
				r := precomposed[v.base-'a'][v.mark][tn][up]
				if r == 0 {
					t.Errorf("no rune for %c with mark %d, tone %d, upper %d", v.base, v.mark, tn, up)
				}
				seen[r] = true
			}
		}
	}
	seen[precomposed['d'-'a'][markStroke][toneNone][0]] = true
	seen[precomposed['d'-'a'][markStroke][toneNone][1]] = true
	if len(seen) != 146 {
		t.Errorf("%d distinct letters, want 146 (12 vowels × 6 tones × 2 cases + đ, Đ)", len(seen))
	}
	for _, r := range "ắẰẩỄộƠỜựỰỳỸđĐ" {
		if !seen[r] {
			t.Errorf("%c is missing", r)
		}
	}
}

// TestParseStyle: a configuration names the style; a wrong name is an
// error that names it and the names allowed.
func TestParseStyle(t *testing.T) {
	for _, s := range []Style{StyleClassic, StyleModern} {
		text, err := s.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", s, err)
		}
		var back Style
		if err := back.UnmarshalText(text); err != nil || back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, s)
		}
	}
	var s Style = StyleModern
	err := s.UnmarshalText([]byte("new"))
	if !errors.Is(err, ErrUnknownStyle) {
		t.Fatalf("UnmarshalText(new) = %v, want ErrUnknownStyle", err)
	}
	if !strings.Contains(err.Error(), `"new"`) || !strings.Contains(err.Error(), `"classic"`) {
		t.Errorf("error %q does not name the wrong value and the right ones", err)
	}
	if s != StyleModern {
		t.Errorf("a failed UnmarshalText changed the style to %v", s)
	}
}
