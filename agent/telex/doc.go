// Package telex turns Telex keystrokes into Vietnamese text, for text
// entries that receive no input-method text from the system (Fyne passes
// none on Linux). It knows no screen: a UI wrapper feeds it the keys it
// intercepts and shows the text it returns.
//
// # The rules
//
// The current word (the letters typed since the last non-letter) is kept
// as letters with their marks plus one tone for the word, and is composed
// again, whole, after every key, as the common Telex input methods do.
// Any rune that is not an ASCII letter (space, digit, punctuation, a
// letter of another script) ends the word and is kept as typed.
//
//   - Marks: aa → â, aw → ă, ee → ê, oo → ô, ow → ơ, uw → ư, dd → đ.
//     A w on "uo" makes "ươ" (nguoiw → ngươi); where nothing follows the
//     o it shows as "uơ" (thuowr → thuở, huow → huơ) and turns into
//     "ươ" as soon as a final consonant or vowel follows (huowng →
//     hương). On "ua" outside "qu" a w makes "ưa" (muaw → mưa).
//   - A w with no vowel before it in the word types ư (w → ư, nhw → như),
//     as in the common Telex tables; ww gives a plain w.
//   - Tones: s sắc, f huyền, r hỏi, x ngã, j nặng; z removes the tone. A
//     tone key may come right after the vowel or anywhere later in the
//     word (vieejt and vieetj both give việt), and a new tone key replaces
//     the old tone.
//   - Marks may also come after the final consonant (tienges → tiếng,
//     duocwj → được) or after the i, u or y of the vowel group (caya →
//     cây), but a circumflex key after another a, e or o is a letter
//     (ngoeoj → ngoẹo).
//   - Repeating a key undoes what it did and types the key itself:
//     aaa → aa, ass → as, uww → uw, ddd → dd. For the rest of the word that
//     key is then a plain letter (asss → ass), so a word that needs the
//     letter can be typed.
//   - Keys transform only a word that can be a Vietnamese syllable: a
//     valid initial consonant (b, c, ch, d, đ, g, gh, gi, h, k, kh, l, m,
//     n, ng, ngh, nh, p, ph, qu, r, s, t, th, tr, v, x, or none), one
//     vowel group, and a valid final consonant (c, ch, m, n, ng, nh, p,
//     t, or none; also k, for Tây Nguyên names such as Đắk Lắk). So
//     "class", "Facebook" and "email" stay as typed, while a Telex key in
//     a Vietnamese word always acts.
//   - Case is kept per letter: DDa → Đa, Vieetj → Việt, VIEETJ → VIỆT.
//
// Like every Telex input method it changes words such as "hoanganh" in an
// e-mail address (hoâng…): a UI uses it on name, address and free-text
// fields, not on e-mail, telephone or ID-number fields.
//
// The tone goes on the vowel that carries a mark (ê, ơ, â, ă, ô, ư; on ơ
// in ươ), else on the only vowel, else on the last vowel when a final
// consonant follows (hoàng, huýt), else on the middle of three vowels
// (ngoài, khuỷu), else on the first of two (múa, mía, hài), except that
// "oa", "oe" and "uy" depend on the Style. In "qu" the u and in "gi"
// before another vowel the i belong to the initial, so quý, quốc, giữa
// and già place the tone on the vowel after them; gìn has i as its vowel.
//
// # Style
//
// StyleClassic (the zero value, the default; the "old" placement) writes
// hòa, khỏe, thủy; StyleModern (the "new" placement) writes hoà, khoẻ,
// thuỷ, as the Ministry of Education's spelling rules for school books
// do. Both put the tone on the last vowel before a final consonant
// (hoàn, huýt) and after qu (quý). The default is classic because the
// records a kiosk's text is compared with are: the official names of
// administrative units (Thanh Hóa, Khánh Hòa, Hòa Bình, as printed on ID
// cards and in agent/identity's province list) and the procedure texts of
// the national public service portal (ủy quyền, giấy khám sức khỏe, xóa
// đăng ký thường trú, as in agent/procedure's catalog) are written that
// way. Both styles read the same to a person; a citizen whose name or
// address matches the record letter for letter is found by a search.
//
// # Output
//
// All text returned is valid UTF-8 in Unicode normalization form C (one
// precomposed rune per Vietnamese letter), whatever the keys were.
package telex
