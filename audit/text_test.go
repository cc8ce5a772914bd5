package audit_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/auditrepo/auditrepo/audit"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "Mozilla/5.0 (X11)", 100, "Mozilla/5.0 (X11)"},
		{"CR LF tab", "a\r\nb\tc", 100, "abc"},
		{"forged log line", "ua\nINFO user=admin login ok", 100, "uaINFO user=admin login ok"},
		{"ANSI escape", "\x1b[31mred", 100, "[31mred"},
		{"NUL and DEL", "a\x00b\x7fc", 100, "abc"},
		{"C1 controls", "\u0085x\u009by", 100, "xy"},
		{"line and paragraph separators", "a\u2028b\u2029c", 100, "abc"},
		{"bidi override", "invoice\u202Efdp.exe", 100, "invoicefdp.exe"},
		{"bidi embeddings", "\u202Aa\u202Bb\u202Cc\u202Dd", 100, "abcd"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", 100, "abc"},
		{"zero width", "a\u200bb\u200cc\u200dd\u2060e\ufefff", 100, "abcdef"},
		{"directional marks", "\u200eL\u200fR\u061cA", 100, "LRA"},
		{"invisible operators and deprecated formats", "\u2061\u2062\u2063\u2064x\u206a\u206b\u206c\u206d\u206e\u206f", 100, "x"},
		{"soft hyphen and grapheme joiner", "pa\u00adss\u034fword", 100, "password"},
		{"Hangul fillers", "\u115f\u1160a\u3164\uffa0", 100, "a"},
		{"Mongolian vowel separator and free variation selectors", "\u180ea\u180b\u180f", 100, "a"},
		{"variation selectors", "\u2764\ufe0f\U000e0100", 100, "\u2764"},
		{"tag characters", "flag\U000e0001\U000e0067\U000e0062\U000e007f", 100, "flag"},
		{"interlinear annotation", "a\ufff9b\ufffac\ufffb", 100, "abc"},
		{"no-break and ideographic spaces kept", "a\u00a0b\u3000c", 100, "a\u00a0b\u3000c"},
		{"dropped runes do not count", "\u200b\u200b\u200babc", 3, "abc"},
		{"invalid UTF-8", "a\xffb\xc0c\xed\xa0\x80d", 100, "abcd"},
		{"literal replacement char kept", "a\uFFFDb", 100, "a\uFFFDb"},
		{"non-ASCII letters kept", "Grüße 日本", 100, "Grüße 日本"},
		{"truncate ASCII", "abcdef", 3, "abc"},
		{"truncate before 2-byte rune", "hé", 2, "h"},
		{"emoji does not fit", "ab😀cd", 5, "ab"},
		{"emoji fits exactly", "ab😀cd", 6, "ab😀"},
		{"limit counts cleaned bytes", "\n\n\nabc", 3, "abc"},
		{"zero max", "abc", 0, ""},
		{"negative max", "abc", -1, ""},
		{"empty", "", 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.CleanText(tt.in, tt.max); got != tt.want {
				t.Errorf("CleanText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// unsafe is the specification of what CleanText must remove, written independently of the implementation:
// controls, U+2028/U+2029 and the Default_Ignorable_Code_Point ranges of Unicode's DerivedCoreProperties.txt.
func unsafe(r rune) bool {
	if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
		return true
	}
	for _, rg := range [][2]rune{
		{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160}, {0x17B4, 0x17B5},
		{0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x206F}, {0x3164, 0x3164},
		{0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3},
		{0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
	} {
		if rg[0] <= r && r <= rg[1] {
			return true
		}
	}
	return false
}

// dropped is what CleanText may remove from valid text: the unsafe runes and the other format characters
// (prepended concatenation marks such as U+0600, interlinear annotation U+FFF9-U+FFFB, Egyptian format
// controls), which are invisible too.
func dropped(r rune) bool { return unsafe(r) || unicode.Is(unicode.Cf, r) }

func TestCleanTextDropsEveryUnsafeRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := "a" + string(r) + "b"
		got := audit.CleanText(s, 100)
		switch {
		case unsafe(r) && got != "ab":
			t.Errorf("CleanText kept U+%04X: %+q", r, got)
		case !dropped(r) && got != s:
			t.Errorf("CleanText dropped U+%04X: %+q", r, got)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	f.Add("Mozilla/5.0", 512)
	f.Add("a\r\nb\u202E\xff😀", 5)
	f.Add("\u0085\u2028", 0)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		got := audit.CleanText(s, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if strings.IndexFunc(got, unsafe) >= 0 {
			t.Fatalf("unsafe rune left in %q", got)
		}
		if len(got) > max(limit, 0) {
			t.Fatalf("len %d > limit %d", len(got), limit)
		}
		if utf8.ValidString(s) && strings.IndexFunc(s, dropped) < 0 && len(s) <= limit && got != s {
			t.Fatalf("clean input changed: %q -> %q", s, got)
		}
	})
}
