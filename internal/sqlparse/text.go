package sqlparse

import (
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Position converts a byte offset of text into a 1-based line and column, the column counted in
// bytes as go/token does. An offset outside the text is clamped to it.
func Position(text string, offset int) (line, col int) {
	offset = min(max(offset, 0), len(text))
	before := text[:offset]
	return strings.Count(before, "\n") + 1, offset - strings.LastIndexByte(before, '\n')
}

// ReplaceParams returns text[start:end] with each reference of refs inside that range replaced by
// f(n). refs come from the parse tree, so a "$1" in a string, comment or identifier is never among
// them; references outside the range are ignored.
func ReplaceParams(text string, start, end int, refs []ParamRef, f func(n int) string) string {
	sorted := append([]ParamRef(nil), refs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	var b strings.Builder
	at := start
	for _, r := range sorted {
		if r.Start < at || r.End > end {
			continue
		}
		b.WriteString(text[at:r.Start])
		b.WriteString(f(r.N))
		at = r.End
	}
	b.WriteString(text[at:end])
	return b.String()
}

// QuoteIdent returns name as an SQL identifier: bare when PostgreSQL would read it back unchanged
// (lower case, not a keyword), double-quoted otherwise.
func QuoteIdent(name string) string {
	bare := name != "" && !(name[0] >= '0' && name[0] <= '9' || name[0] == '$')
	for _, c := range name {
		bare = bare && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$')
	}
	if bare {
		// Only a keyword can still change meaning; the scanner knows them all.
		scan, err := pg_query.Scan(name)
		bare = err == nil && len(scan.Tokens) == 1 && scan.Tokens[0].KeywordKind == pg_query.KeywordKind_NO_KEYWORD
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
