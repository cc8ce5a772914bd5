package sqlparse

import (
	"slices"
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

// QuoteIdent returns name as an SQL identifier: bare when PostgreSQL reads it back unchanged as a column,
// table or schema name, double-quoted otherwise. Bare means lower-case ASCII letters, digits and underscores,
// not starting with a digit ('$', which PostgreSQL allows after the first character, is quoted, as its
// quote_ident quotes it), and not a reserved key word; the parser's own scanner decides which words are
// key words and of which kind, so the list follows the parser. Unreserved and column-name key words (type,
// name, time) stay bare: they are valid column and table names. Only reserved words and those reserved but
// for function or type names (select, user, left, join) must be quoted.
func QuoteIdent(name string) string {
	return quote(name, pg_query.KeywordKind_RESERVED_KEYWORD, pg_query.KeywordKind_TYPE_FUNC_NAME_KEYWORD)
}

// QuoteTypeQualifier returns name as the schema of a qualified type name (schema.type). There PostgreSQL reads
// fewer bare words than QuoteIdent leaves: a column-name key word (time, values, int) is a syntax error, so it
// is quoted too.
func QuoteTypeQualifier(name string) string {
	return quote(name, pg_query.KeywordKind_RESERVED_KEYWORD, pg_query.KeywordKind_TYPE_FUNC_NAME_KEYWORD,
		pg_query.KeywordKind_COL_NAME_KEYWORD)
}

// quote returns name bare when it is a plain lower-case word whose key word kind, if any, is not among quoted,
// double-quoted otherwise.
func quote(name string, quoted ...pg_query.KeywordKind) string {
	bare := name != "" && !(name[0] >= '0' && name[0] <= '9')
	for _, c := range name {
		bare = bare && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	}
	if bare {
		scan, err := pg_query.Scan(name)
		bare = err == nil && len(scan.Tokens) == 1 && !slices.Contains(quoted, scan.Tokens[0].KeywordKind)
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// FirstSQL returns the byte offset in text of its first token that is not a comment, or -1 if it holds only
// comments and white space. A text the scanner refuses is taken to start with SQL (0).
func FirstSQL(text string) int {
	scan, err := pg_query.Scan(text)
	if err != nil {
		return 0
	}
	for _, t := range scan.Tokens {
		if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT {
			return int(t.Start)
		}
	}
	return -1
}

// EndsInLineComment reports whether the last token of text is a "--" comment, which runs to the end of its line:
// text put before more SQL then needs a line break after it. A text the scanner refuses is taken to end in one.
func EndsInLineComment(text string) bool {
	scan, err := pg_query.Scan(text)
	if err != nil {
		return true
	}
	return len(scan.Tokens) > 0 && scan.Tokens[len(scan.Tokens)-1].Token == pg_query.Token_SQL_COMMENT
}
