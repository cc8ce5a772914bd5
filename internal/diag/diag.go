// Package diag collects generation errors that point at a place in the user's files.
package diag

import (
	"fmt"
	"go/token"
	"sort"
	"strings"
)

// Error is one problem at one place, printed as file:line:col: message.
type Error struct {
	Pos token.Position
	Msg string
}

func (e Error) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// List gathers every error of a stage, so one run reports them all.
type List []Error

// Addf records a problem at pos.
func (l *List) Addf(pos token.Position, format string, args ...any) {
	*l = append(*l, Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the errors sorted by position, or nil when there are none.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	s := append(List(nil), l...)
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i].Pos, s[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return s
}

func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
