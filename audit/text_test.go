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

// unsafe is the specification of what CleanText removes, written independently of the implementation.
func unsafe(r rune) bool {
	return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
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
		if utf8.ValidString(s) && strings.IndexFunc(s, unsafe) < 0 && len(s) <= limit && got != s {
			t.Fatalf("clean input changed: %q -> %q", s, got)
		}
	})
}
