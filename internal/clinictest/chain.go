package clinictest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/audit"
)

// Live is a record as PostgreSQL's to_jsonb renders it now, with its xmin (the transaction that wrote this
// version).
type Live struct {
	Img  map[string]any
	Xmin int64
}

// LiveRows returns every row of table as to_jsonb with the redacted columns overlaid as the trail shows them,
// keyed by id.
func LiveRows(t testing.TB, q audit.DBTX, table string, redact []string) map[int64]Live {
	t.Helper()
	rows, err := q.Query(context.Background(), fmt.Sprintf("SELECT x.id, x.xmin::text::bigint, to_jsonb(x)::text FROM %s x",
		pgx.Identifier{table}.Sanitize()))
	if err != nil {
		t.Fatalf("live %s: %v", table, err)
	}
	defer rows.Close()
	out := map[int64]Live{}
	for rows.Next() {
		var id, xmin int64
		var raw string
		if err := rows.Scan(&id, &xmin, &raw); err != nil {
			t.Fatalf("live %s: %v", table, err)
		}
		v, err := decodeJSON([]byte(raw))
		if err != nil {
			t.Fatalf("live %s/%d: %v", table, id, err)
		}
		m := v.(map[string]any)
		for _, k := range redact {
			m[k] = "[REDACTED]"
		}
		out[id] = Live{Img: m, Xmin: xmin}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("live %s: %v", table, err)
	}
	return out
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// ChainProblems checks one record's trail against itself and the live row, and returns what is wrong:
//   - the trail starts with CREATE and nothing follows a DELETE;
//   - each UPDATE's before and each DELETE's deleted_record equal the previous row's image, so every row
//     describes a version that the previous committed change produced;
//   - changed_fields lists exactly the (non-redacted) columns whose values differ, plus redacted ones;
//   - the record exists iff the trail does not end in DELETE, and then equals the last image and was
//     written by the same transaction as the last audit row (xmin = transaction_id mod 2^32).
func ChainProblems(table string, id int64, trail []Row, live Live, exists bool, redact []string) []string {
	var p []string
	add := func(format string, args ...any) {
		p = append(p, fmt.Sprintf("%s/%d: ", table, id)+fmt.Sprintf(format, args...))
	}
	if len(trail) == 0 {
		if exists {
			add("live row has no audit row at all")
		}
		return p
	}
	if trail[0].Action != "CREATE" {
		add("trail starts with %s (audit row %d), not CREATE", trail[0].Action, trail[0].ID)
	}
	for i, r := range trail {
		if r.TargetTable != table || r.TargetID != id {
			add("audit row %d targets %s/%d", r.ID, r.TargetTable, r.TargetID)
		}
		img := r.Image()
		if img == nil {
			add("audit row %d (%s) has no image: %s", r.ID, r.Action, r.Changes)
			continue
		}
		if got := JSONInt(img["id"]); got != id {
			add("audit row %d: image id %v", r.ID, img["id"])
		}
		if i == 0 {
			continue
		}
		prev := trail[i-1]
		switch {
		case prev.Action == "DELETE":
			add("audit row %d (%s) follows DELETE row %d", r.ID, r.Action, prev.ID)
		case r.Action == "CREATE":
			add("second CREATE row %d", r.ID)
		case r.Action == "UPDATE":
			before, _ := r.Ch["before"].(map[string]any)
			if !reflect.DeepEqual(before, prev.Image()) {
				add("UPDATE row %d: before %s differs from row %d's after %s", r.ID, Abbrev(r.Ch["before"]), prev.ID, Abbrev(prev.Image()))
			}
			if msg := changedFieldsProblem(r, redact); msg != "" {
				add("UPDATE row %d: %s", r.ID, msg)
			}
		case r.Action == "DELETE":
			if !reflect.DeepEqual(img, prev.Image()) {
				add("DELETE row %d: deleted_record %s differs from row %d's image %s", r.ID, Abbrev(img), prev.ID, Abbrev(prev.Image()))
			}
		}
	}
	last := trail[len(trail)-1]
	switch {
	case last.Action == "DELETE" && exists:
		add("trail ends with DELETE row %d but the row exists: %s", last.ID, Abbrev(live.Img))
	case last.Action != "DELETE" && !exists:
		add("row is gone but the trail ends with %s row %d (deleted without an audit row)", last.Action, last.ID)
	case exists:
		if !reflect.DeepEqual(live.Img, last.Image()) {
			add("live row %s differs from the last audit image (row %d) %s", Abbrev(live.Img), last.ID, Abbrev(last.Image()))
		}
		if live.Xmin != int64(last.TransactionID%(1<<32)) {
			add("live row version written by xid %d, last audit row %d by transaction %d", live.Xmin, last.ID, last.TransactionID)
		}
	}
	return p
}

// CheckChain reads one record's trail (as c.Reviewer) and the record as it is now (as c.App), fails t with each
// of ChainProblems' findings and if the record's existence is not exists (true: it must still be there, false: it
// must be deleted), and returns the trail for the test's own checks: the one row-by-row check of an audit chain.
func (c *Clinic) CheckChain(t testing.TB, table string, id int64, redact []string, exists bool) []Row {
	t.Helper()
	trail := Record(t, c.Reviewer, table, id)
	live, ok := LiveRows(t, c.App, table, redact)[id]
	if ok != exists {
		t.Errorf("%s/%d: the record exists = %v, want %v", table, id, ok, exists)
	}
	for _, p := range ChainProblems(table, id, trail, live, ok, redact) {
		t.Error(p)
	}
	return trail
}

func changedFieldsProblem(r Row, redact []string) string {
	before, _ := r.Ch["before"].(map[string]any)
	after, _ := r.Ch["after"].(map[string]any)
	if _, ok := r.Ch["changed_fields"].([]any); !ok {
		return fmt.Sprintf("changed_fields = %#v", r.Ch["changed_fields"])
	}
	got := r.Changed()
	var want []string
	for k := range after {
		if !reflect.DeepEqual(before[k], after[k]) {
			want = append(want, k)
		}
	}
	for _, k := range redact {
		if slices.Contains(got, k) && !slices.Contains(want, k) {
			want = append(want, k) // a redacted change is only visible in changed_fields
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		return fmt.Sprintf("changed_fields %q, but the images differ in %q", got, want)
	}
	return ""
}

// JSONInt is a decoded JSON integer (json.Number), or the minimum int64 when v is none.
func JSONInt(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return -1 << 63
	}
	i, err := n.Int64()
	if err != nil {
		return -1 << 63
	}
	return i
}

// Abbrev renders v for an error message, truncated.
func Abbrev(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}
