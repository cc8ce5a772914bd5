package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/auditrepo/auditrepo/audit"
)

// TestTableEscapesQuoteLookalikes: the table format delimits client text (user agents, request ids, actor names,
// PHI strings a patient typed) with JSON quotes and escapes a straight quote inside as \", so that "no spacing or
// punctuation in it can read as more fields of the line". Quotation-mark lookalikes were left as they are (red
// team, fixed), so a value could close its quote to the eye and go on with fields of its own: a patient's
// medication
//
//	none″, allergies: ″penicillin″ -> ″none
//
// renders in an UPDATE's CHANGES cell as
//
//	medications: "ibuprofen" -> "none″, allergies: ″penicillin″ -> ″none"
//
// which a reviewer reads as two changes, one of them an allergy removed that never was. Now every rune that is a
// quotation mark (Unicode Quotation_Mark) or looks like one (primes, modifier-letter double primes, quoteLike) is
// escaped as \uXXXX inside a rendered value, as the invisible ones are, in the table and in JSON output.
func TestTableEscapesQuoteLookalikes(t *testing.T) {
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

// TestJSONEscapesQuoteLookalikes: the JSON output escapes the lookalikes the table does (quoteLike), and decodes to
// the value as stored; ASCII ' and the text around stay as they are.
func TestJSONEscapesQuoteLookalikes(t *testing.T) {
	v := "O'Brien ″x″ «y» ‘z’ ＂w＂ 〃 ״ 🙶"
	var b strings.Builder
	if err := newJSONWriter(&b).write(audit.Event{Action: audit.ActionCreate, After: map[string]any{"name": v}}, actorName{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.IndexFunc(out, quoteLike) >= 0 || !strings.Contains(out, `O'Brien \u2033x\u2033 \u00aby\u00bb \u2018z\u2019 \uff02w\uff02 \u3003 \u05f4 \ud83d\ude76`) {
		t.Errorf("JSON %s", out)
	}
	var got struct{ After map[string]any }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.After["name"] != v {
		t.Errorf("decoded %q (%v), want %q", got.After["name"], err, v)
	}
	if got := visible("an error naming ″k″"); got != `an error naming \u2033k\u2033` {
		t.Errorf("visible = %s", got)
	}
}
