package sqlparse_test

import (
	"fmt"
	"strings"

	"github.com/auditrepo/auditrepo/internal/sqlparse"
)

// The bulk form of an INSERT: the VALUES row becomes a SELECT over unnest, everything else is kept.
func ExampleParse() {
	sql := "-- name: CreateNote :one\nINSERT INTO notes (patient_id, body) VALUES ($1, $2::text /* '$3' */) RETURNING id;"
	s, err := sqlparse.Parse(sql)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := s.Insert.Values
	var items []string
	for _, it := range v.Items {
		items = append(items, sqlparse.ReplaceParams(sql, it.Start, it.End, it.Params, func(n int) string {
			return fmt.Sprintf("ar_in.p%d", n)
		}))
	}
	fmt.Println(s.Kind, s.Target, s.Params)
	fmt.Println(sql[s.Start:v.Start] + "SELECT " + strings.Join(items, ", ") +
		" FROM unnest($1::int[], $2::text[]) AS ar_in(p1, p2)" + sql[v.End:s.End])
	line, col := sqlparse.Position(sql, v.Start)
	fmt.Printf("VALUES at %d:%d\n", line, col)
	// Output:
	// INSERT notes 2
	// INSERT INTO notes (patient_id, body) SELECT ar_in.p1, ar_in.p2::text FROM unnest($1::int[], $2::text[]) AS ar_in(p1, p2) RETURNING id
	// VALUES at 2:38
}
