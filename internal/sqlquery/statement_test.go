package sqlquery

import (
	"reflect"
	"testing"
)

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want Statement
	}{
		{
			name: "insert",
			sql:  "-- name: CreateVisit :one\nINSERT INTO visits (patient_id, \"Reason\") VALUES ($1, lower($2)) RETURNING id, patient_id;",
			want: Statement{Kind: Insert, Table: "visits", Columns: []string{"patient_id", "Reason"},
				Values: []string{"$1", "lower($2)"}, Returning: "id, patient_id", Params: 2},
		},
		{
			name: "insert of several rows has no single VALUES",
			sql:  "INSERT INTO visits (a) VALUES ($1), ($2) RETURNING *",
			want: Statement{Kind: Insert, Table: "visits", Columns: []string{"a"}, Returning: "*", Params: 2},
		},
		{
			name: "upsert",
			sql:  "INSERT INTO visits (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = excluded.a RETURNING *",
			want: Statement{Kind: Insert, Table: "visits", Columns: []string{"a"}, Values: []string{"$1"}, Returning: "*", Params: 1,
				Problem: "ON CONFLICT is not supported: an upsert is a CREATE or an UPDATE only at run time"},
		},
		{
			name: "update with alias, strings and comments",
			sql:  "UPDATE ONLY public.visits AS v SET note = 'where '' returning', n = (SELECT 1 FROM x WHERE y) /* WHERE */ WHERE v.id = $1 -- RETURNING\n RETURNING *",
			want: Statement{Kind: Update, Table: "public.visits", Alias: "v",
				Set: "note = 'where '' returning', n = (SELECT 1 FROM x WHERE y) /* WHERE */", Where: "v.id = $1 -- RETURNING", Returning: "*", Params: 1},
		},
		{
			name: "update without where",
			sql:  "UPDATE visits SET a = $1 RETURNING *",
			want: Statement{Kind: Update, Table: "visits", Returning: "*", Params: 1, Problem: "an UPDATE without WHERE is not supported"},
		},
		{
			name: "update from",
			sql:  "UPDATE visits SET a = o.a FROM other o WHERE o.id = visits.id",
			want: Statement{Kind: Update, Table: "visits", Problem: "UPDATE ... FROM is not supported"},
		},
		{
			name: "delete",
			sql:  "DELETE FROM visits WHERE id = $1 AND note <> $$;$$",
			want: Statement{Kind: Delete, Table: "visits", Where: "id = $1 AND note <> $$;$$", Params: 1},
		},
		{
			name: "delete using",
			sql:  "DELETE FROM visits v USING other o WHERE o.id = v.id",
			want: Statement{Kind: Delete, Table: "visits", Alias: "v", Problem: "DELETE ... USING is not supported"},
		},
		{
			name: "select",
			sql:  "SELECT * FROM visits WHERE id = $3 FOR UPDATE",
			want: Statement{Kind: Other, Params: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := Parse(tt.sql)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestFindWrites(t *testing.T) {
	tests := []struct {
		sql  string
		want []Write
	}{
		{"SELECT * FROM visits FOR UPDATE", nil},
		{"SELECT * FROM visits FOR NO KEY UPDATE", nil},
		{"INSERT INTO a (x) VALUES (1) ON CONFLICT (x) DO UPDATE SET x = 2", []Write{{"INSERT", "a"}}},
		{"WITH d AS (DELETE FROM ledger WHERE id = 1 RETURNING id) SELECT count(*) FROM d", []Write{{"DELETE", "ledger"}}},
		{"WITH u AS (UPDATE ONLY \"Ledger\" SET a = 1 WHERE true RETURNING *) INSERT INTO log SELECT * FROM u",
			[]Write{{"UPDATE", "Ledger"}, {"INSERT", "log"}}},
		{"TRUNCATE TABLE ONLY a, b.c", []Write{{"TRUNCATE", "a"}, {"TRUNCATE", "b.c"}}},
		{"MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN UPDATE SET x = 1", []Write{{"MERGE", "a"}}},
		{"SELECT 'DELETE FROM a' -- UPDATE b SET x = 1\n", nil},
	}
	for _, tt := range tests {
		_, got := Parse(tt.sql)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) writes = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func TestReplaceParams(t *testing.T) {
	got := ReplaceParams("coalesce($1, '$2', $2::text, $10)", func(n int) string { return "p" + string(rune('0'+n%10)) })
	want := "coalesce(p1, '$2', p2::text, p0)"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
