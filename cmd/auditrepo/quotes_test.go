package main

import (
	"strings"
	"testing"
	"unicode"
)

// TestRedTeam22bQuoteLookalikes: the table format delimits client text (user agents, request ids, actor names,
// PHI strings a patient typed) with JSON quotes and escapes a straight quote inside as \", so that "no spacing or
// punctuation in it can read as more fields of the line". Quotation-mark lookalikes are left as they are, so a
// value can close its quote to the eye and go on with fields of its own: a patient's medication
//
//	none″, allergies: ″penicillin″ -> ″none
//
// renders in an UPDATE's CHANGES cell as
//
//	medications: "ibuprofen" -> "none″, allergies: ″penicillin″ -> ″none"
//
// which a reviewer reads as two changes, one of them an allergy removed that never was. Expected: every rune that
// is a quotation mark (Unicode Quotation_Mark) or looks like one (primes, modifier-letter double primes) is
// escaped as \uXXXX inside a rendered value, as the invisible ones are.
func TestRedTeam22bQuoteLookalikes(t *testing.T) {
	lookalikes := []rune{'\u201c', '\u201d', '\u201e', '\u201f', '\u2033', '\u2036', '\u02ba', '\u02dd', '\u02ee', '\u3003', '\uff02', '\u05f4'}
	isLookalike := func(r rune) bool {
		return r != '"' && (unicode.Is(unicode.Quotation_Mark, r) || strings.ContainsRune(string(lookalikes), r))
	}
	for _, r := range lookalikes {
		s := "none" + string(r) + ", allergies: " + string(r) + "penicillin" + string(r) + " -> " + string(r) + "none"
		for name, out := range map[string]string{"value": value(s), "quoted": quoted(s), "cell": cell(quoted(s))} {
			if strings.IndexFunc(out, isLookalike) >= 0 {
				t.Errorf("%s(%q) = %s: U+%04X, which reads as a closing quote, is shown as it is", name, s, out, r)
				break
			}
		}
	}
}
