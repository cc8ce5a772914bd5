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
// (C0 and C1, including \r, \n and \t), the line and paragraph separators U+2028/U+2029 and the bidi embedding,
// override and isolate characters (U+202A-U+202E, U+2066-U+2069) that can disguise a log line, then truncates the
// result to at most maxBytes bytes without splitting a rune.
func CleanText(s string, maxBytes int) string {
	if maxBytes <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(min(len(s), maxBytes))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		keep := !(r == utf8.RuneError && size == 1) && !unsafeRune(r) // a literal U+FFFD is valid and kept
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

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) ||
		r == '\u2028' || r == '\u2029' ||
		('\u202A' <= r && r <= '\u202E') ||
		('\u2066' <= r && r <= '\u2069')
}
