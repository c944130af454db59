// Package piiscan looks for personal data left in clear in files: each
// value in the encodings it could have been written in (UTF-8 NFC and
// NFD, UTF-16 little- and big-endian, JSON \u escapes, with and without
// Vietnamese diacritics). Tests use it to prove a data directory holds
// none.
package piiscan

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Hit is one value found in one file.
type Hit struct {
	Path     string
	Value    string
	Encoding string
	Offset   int
}

func (h Hit) String() string {
	return fmt.Sprintf("%s: %q in %s at byte %d", h.Path, h.Value, h.Encoding, h.Offset)
}

// Encodings returns value's encodings by name.
func Encodings(value string) map[string][]byte {
	out := map[string][]byte{}
	plain := stripMarks(value)
	forms := map[string]string{
		"NFC": norm.NFC.String(value), "NFD": norm.NFD.String(value), "no diacritics": plain,
	}
	for name, s := range forms {
		out["UTF-8 "+name] = []byte(s)
		out["UTF-16LE "+name] = utf16Bytes(s, false)
		out["UTF-16BE "+name] = utf16Bytes(s, true)
		out["JSON escapes "+name] = jsonEscapes(s)
	}
	return out
}

// stripMarks removes the diacritics of s, đ included.
func stripMarks(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.NewReplacer("đ", "d", "Đ", "D").Replace(out)
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// jsonEscapes writes every non-ASCII letter of s as a \u escape.
func jsonEscapes(s string) []byte {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		if u < 0x80 {
			b.WriteByte(byte(u))
		} else {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	return []byte(b.String())
}

// Dir reads every regular file under dir and returns where values appear
// in any of their encodings. Values shorter than 4 bytes are refused, as
// they would appear by chance.
func Dir(dir string, values ...string) ([]Hit, error) {
	type needle struct {
		value, enc string
		b          []byte
	}
	var needles []needle
	for _, v := range values {
		if len(v) < 4 {
			return nil, fmt.Errorf("piiscan: %q is too short to search for", v)
		}
		// An encoding equal to another (an ASCII value in NFC and NFD)
		// is searched once.
		seen := map[string]bool{}
		encs := Encodings(v)
		names := make([]string, 0, len(encs))
		for enc := range encs {
			names = append(names, enc)
		}
		sort.Strings(names)
		for _, enc := range names {
			if b := encs[enc]; !seen[string(b)] {
				seen[string(b)] = true
				needles = append(needles, needle{v, enc, b})
			}
		}
	}
	var hits []Hit
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking (a WAL at close)
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range needles {
			if i := bytes.Index(data, n.b); i >= 0 {
				hits = append(hits, Hit{Path: path, Value: n.value, Encoding: n.enc, Offset: i})
			}
		}
		return nil
	})
	return hits, err
}
