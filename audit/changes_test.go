package audit

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/internal/jsontree"
)

// TestDecodeChangesAnyDepth: changes of any depth decode (here far deeper than PostgreSQL stores at its default
// max_stack_depth, which a superuser may raise): encoding/json's limit of 10,000 levels loses no event. A json
// column's text (spacing, a key twice: the last counts, as in jsonb) reads as it did, and a text that is not
// JSON is still an error.
func TestDecodeChangesAnyDepth(t *testing.T) {
	const n = 200000
	deep := strings.Repeat(`{"k": [`, n) + `"x"` + strings.Repeat("] }", n)
	compact := strings.Repeat(`{"k":[`, n) + `"x"` + strings.Repeat("]}", n)
	text := `{ "before" : {"id": 1, "intake": {"a": 1}}, "after": {"id": 1, "intake": ` + deep + `, "note": "a b"},
		"changed_fields": ["intake"], "after": {"id": 2, "intake": ` + deep + `, "note": "a  b", "note": "c"} }`
	var e Event
	if err := decodeChanges(&e, []byte(text)); err != nil {
		t.Fatal(err)
	}
	if raw, ok := e.After["intake"].(json.RawMessage); !ok || string(raw) != compact {
		t.Errorf("after.intake = %.60v, want its compact JSON text", e.After["intake"])
	}
	if e.After["id"] != json.Number("2") || e.After["note"] != "c" || len(e.After) != 3 {
		t.Errorf("after = %.200v, want the last after, its last note", e.After)
	}
	if m, ok := e.Before["intake"].(map[string]any); !ok || m["a"] != json.Number("1") || !slices.Equal(e.ChangedFields, []string{"intake"}) {
		t.Errorf("before = %v, changed %v", e.Before, e.ChangedFields)
	}
	for _, bad := range []string{deep[:len(deep)-1], `{"after": ` + deep + `]}`, `{"after": "x"}`, `{"after": {"a": ` + deep[1:] + `}}`} {
		if err := decodeChanges(&Event{}, []byte(bad)); err == nil {
			t.Errorf("decodeChanges(%.60s...) succeeded", bad)
		}
	}
}

// decodeChangesBefore is decodeChanges as it was, with encoding/json alone (10,000 levels at most).
func decodeChangesBefore(e *Event, changes []byte) error {
	var c struct {
		Before        json.RawMessage `json:"before"`
		After         json.RawMessage `json:"after"`
		Deleted       json.RawMessage `json:"deleted_record"`
		ChangedFields json.RawMessage `json:"changed_fields"`
	}
	var deleted map[string]any
	err := decodeJSON(changes, &c)
	for _, m := range []struct {
		raw json.RawMessage
		to  any
	}{{c.Before, &e.Before}, {c.After, &e.After}, {c.Deleted, &deleted}, {c.ChangedFields, &e.ChangedFields}} {
		if err == nil && m.raw != nil {
			err = decodeJSON(m.raw, m.to)
		}
	}
	if err != nil {
		return err
	}
	if e.Before == nil {
		e.Before = deleted
	}
	return nil
}

// FuzzDecodeChanges: changes read as they did with encoding/json alone wherever that could read them (the
// same images, the same changed fields; refused alike), and a text too deep for it reads, its deepest values
// as valid JSON text.
func FuzzDecodeChanges(f *testing.F) {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, s := range []string{`{"after": {"id": 1, "note": "a"}}`, `{"before": {"a": [1, {"b": null}]}, "after": {"a": 2}, "changed_fields": ["a"]}`,
		`{"deleted_record": {"id": 1}}`, `{"from": 1, "to": 2}`, `null`, `{"after": null}`, `{"after": 5}`, `[]`, `{"after": {"a": 1}, "after": {"b": 2}}`,
		`{"after": {"a": ` + deep(10001, "[", "]") + `}}`, `{"after": {"a": ` + deep(9999, `{"k": `, "}") + `, "b": "x"}, "changed_fields": ["a"]}`,
		`{"before": {"a": ` + deep(12000, `[[`, `], 2]`) + `}, "after": {"a": 1, "a": ` + deep(10000, "[", "]") + `}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, x []byte) {
		var got, want Event
		err := decodeChanges(&got, x)
		wantErr := decodeChangesBefore(&want, x)
		switch {
		case wantErr == nil && (err != nil || !reflect.DeepEqual(got, want)):
			t.Fatalf("decodeChanges(%.200q) = %.200v, %v; was %.200v", x, got, err, want)
		case wantErr != nil && !strings.Contains(wantErr.Error(), "exceeded max depth") && err == nil:
			t.Fatalf("decodeChanges(%.200q) = %.200v, was refused: %v", x, got, wantErr)
		case err == nil:
			for _, img := range []map[string]any{got.Before, got.After} {
				for k, v := range img {
					if raw, ok := v.(json.RawMessage); ok {
						if _, err := jsontree.Parse(raw); err != nil {
							t.Fatalf("decodeChanges(%.200q): %s = %.200s, not JSON: %v", x, k, raw, err)
						}
					}
				}
			}
		}
	})
}
