package jsontree

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParse: Parse takes what json.Valid takes, at any depth, and links members to their keys in text order.
func TestParse(t *testing.T) {
	for _, s := range []string{`0`, ` -1.5e+3 `, `"a\u00e9\n"`, "\"\xff\"", `[]`, `{}`, `[1, [2, {}], {"a": [null, true, false]}]`,
		`{"a": 1, "a": 2}`, `01`, `1.`, `-`, `.5`, `1e`, `1e+`, `tru`, `nulll`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{1: 2}`,
		"\"a\x01\"", `"\x"`, `"\u12g4"`, `"abc`, `[] []`, `[`, `]`, ``, ` `, "\ufeff1", `{"a":1}}`, `[1}`, `{"a":1]`} {
		_, err := Parse([]byte(s))
		if (err == nil) != json.Valid([]byte(s)) {
			t.Errorf("Parse(%q) = %v, json.Valid %v", s, err, json.Valid([]byte(s)))
		}
	}
	text := []byte(`{"b": [1, "x"], "a\"": {}, "b": null}`)
	nodes, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := nodes[0].First; i >= 0; i = nodes[i].Next {
		n := nodes[i]
		got = append(got, string(text[n.Key:n.KeyEnd])+"="+string(text[n.Start:n.End]))
	}
	if strings.Join(got, " ") != `"b"=[1, "x"] "a\""={} "b"=null` || nodes[0].Len != 3 || nodes[1].Len != 2 {
		t.Errorf("members %q", got)
	}
	deep := strings.Repeat(`{"k": [`, 100000) + strings.Repeat(`]}`, 100000)
	if _, err := Parse([]byte(deep)); err != nil {
		t.Errorf("100,000 levels: %v", err)
	}
	if got := string(Compact([]byte(" { \"a b\" : [ 1 , \"\\\" x\" ] }\n"))); got != `{"a b":[1,"\" x"]}` {
		t.Errorf("Compact = %s", got)
	}
}
