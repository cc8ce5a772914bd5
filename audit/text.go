package audit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits applied to client-supplied text before it is stored.
const (
	MaxUserAgent = 512
	MaxRequestID = 128
)

// CleanText makes untrusted text safe to store and log (CWE-117): it drops invalid UTF-8, control characters
// (C0 and C1, including \r, \n and \t), the line and paragraph separators U+2028/U+2029, and every invisible
// character that can disguise or hide text: the format characters (Unicode category Cf: the zero-width space,
// joiners and non-joiners U+200B-U+200D, the directional marks U+200E/U+200F and the Arabic letter mark U+061C,
// the bidi embedding, override and isolate characters U+202A-U+202E and U+2066-U+2069, U+2060-U+206F, the byte
// order mark U+FEFF, the soft hyphen U+00AD, the tag characters U+E0001-U+E007F, ...) and the other
// default-ignorable code points (variation selectors, the combining grapheme joiner U+034F, the Hangul fillers
// U+115F, U+1160, U+3164, U+FFA0, ...). Then it truncates the result to at most maxBytes bytes without splitting
// a rune.
func CleanText(s string, maxBytes int) string {
	if maxBytes <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(min(len(s), maxBytes))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		keep := !(r == utf8.RuneError && size == 1) && !Hidden(r) // a literal U+FFFD is valid and kept
		if keep {
			if b.Len()+size > maxBytes {
				break
			}
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// Hidden reports whether CleanText drops r: a control character or an invisible one.
func Hidden(r rune) bool {
	if r < utf8.RuneSelf {
		return unicode.IsControl(r)
	}
	return unicode.IsControl(r) || unicode.In(r, invisible...)
}

// invisible are the tables of the non-ASCII runes CleanText drops besides controls: Default_Ignorable_Code_Point
// is Cf, Other_Default_Ignorable_Code_Point and Variation_Selector (less some white space and prepended marks,
// which are dropped too).
var invisible = []*unicode.RangeTable{unicode.Zl, unicode.Zp, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector}
