// Package sqlquery reads the SQL text of sqlc queries far enough to wrap them: it tells which table a
// statement writes, splits the clauses the generator rewrites, and finds writes it cannot wrap.
//
// It is a lexer plus a clause splitter, not a parser: sqlc has already parsed and type-checked every
// query against the schema, so this package only needs to find clause boundaries reliably (string
// literals, quoted identifiers, dollar quotes, comments and parentheses are honoured).
package sqlquery

import (
	"strings"
	"unicode"
)

type tokKind int

const (
	tWord   tokKind = iota // keyword or bare identifier
	tQuoted                // "quoted identifier"
	tString                // string literal of any form
	tParam                 // $n
	tPunct                 // anything else, one rune (or :: as one)
)

type token struct {
	kind  tokKind
	text  string
	start int // byte offsets into the statement text
	end   int
	depth int // parenthesis depth at the token
}

func (t token) is(word string) bool { return t.kind == tWord && strings.EqualFold(t.text, word) }

// lex splits src into tokens, dropping comments and white space.
func lex(src string) []token {
	var toks []token
	depth := 0
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			i = skipBlockComment(src, i)
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '\'':
			i = skipQuoted(src, i+1, '\'')
			toks = append(toks, token{kind: tString, text: src[start:i], start: start, end: i, depth: depth})
			continue
		case (c == 'E' || c == 'e') && i+1 < len(src) && src[i+1] == '\'':
			i = skipEscapeString(src, i+2)
			toks = append(toks, token{kind: tString, text: src[start:i], start: start, end: i, depth: depth})
			continue
		case c == '"':
			i = skipQuoted(src, i+1, '"')
			toks = append(toks, token{kind: tQuoted, text: src[start:i], start: start, end: i, depth: depth})
			continue
		case c == '$':
			j := i + 1
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j > i+1 {
				toks = append(toks, token{kind: tParam, text: src[i:j], start: i, end: j, depth: depth})
				i = j
				continue
			}
			if end, ok := skipDollarQuote(src, i); ok {
				toks = append(toks, token{kind: tString, text: src[i:end], start: i, end: end, depth: depth})
				i = end
				continue
			}
		case isIdentStart(rune(c)) || c >= 0x80:
			for i < len(src) && (isIdentPart(rune(src[i])) || src[i] >= 0x80) {
				i++
			}
			toks = append(toks, token{kind: tWord, text: src[start:i], start: start, end: i, depth: depth})
			continue
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentPart(rune(src[i])) || src[i] == '.') {
				i++
			}
			toks = append(toks, token{kind: tWord, text: src[start:i], start: start, end: i, depth: depth})
			continue
		}
		// Punctuation.
		i++
		if c == ':' && i < len(src) && src[i] == ':' {
			i++
		}
		if c == ')' {
			depth--
		}
		toks = append(toks, token{kind: tPunct, text: src[start:i], start: start, end: i, depth: depth})
		if c == '(' {
			depth++
		}
	}
	return toks
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func skipBlockComment(src string, i int) int {
	nest := 0
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "/*"):
			nest++
			i += 2
		case strings.HasPrefix(src[i:], "*/"):
			nest--
			i += 2
			if nest == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted returns the offset after the closing quote; a doubled quote is an escaped one.
func skipQuoted(src string, i int, q byte) int {
	for i < len(src) {
		if src[i] == q {
			if i+1 < len(src) && src[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

func skipEscapeString(src string, i int) int {
	for i < len(src) {
		switch {
		case src[i] == '\\':
			i += 2
		case src[i] == '\'' && i+1 < len(src) && src[i+1] == '\'':
			i += 2
		case src[i] == '\'':
			return i + 1
		default:
			i++
		}
	}
	return len(src)
}

// skipDollarQuote handles $tag$ ... $tag$ strings.
func skipDollarQuote(src string, i int) (int, bool) {
	j := i + 1
	for j < len(src) && src[j] != '$' {
		if !isIdentPart(rune(src[j])) || src[j] == '$' {
			return 0, false
		}
		j++
	}
	if j >= len(src) {
		return 0, false
	}
	tag := src[i : j+1]
	k := strings.Index(src[j+1:], tag)
	if k < 0 {
		return len(src), true
	}
	return j + 1 + k + len(tag), true
}
