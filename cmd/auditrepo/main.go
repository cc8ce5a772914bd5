// Command auditrepo is the reviewers' and operators' tool for an auditrepo trail: it prints the audit schema's
// SQL, reads a patient's or a record's trail, applies retention, and seals and verifies the trail.
//
// Exit codes: 0 success, 1 a check failed (verify, seal finding the last checkpoint does not verify, or the
// installed schema's revision not being the one this binary was built for), 2 usage, connection or permission
// errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/auditrepo/auditrepo/audit"
)

// command is one subcommand: run parses its flags from args and does the work.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// commands are the subcommands by name; each file of this package registers its own in an init function.
var commands = map[string]command{}

// env is what a subcommand may use of the process, so tests can run it in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a mistake in the command line: exit code 2, with the message saying what to fix.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported is a command line the flag package refused: it printed why, and the usage (for -h, the usage
// alone), so the error is not printed again.
var errReported = errors.New("the flag package reported the error")

// failedError is a check that ran and failed: exit code 1.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

func main() {
	os.Exit(run(context.Background(), &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		return 2
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "auditrepo: unknown command %q\n", args[0])
		usage(e.stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	var failed failedError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errReported):
		return 2
	case errors.As(err, &failed):
		fmt.Fprintf(e.stderr, "auditrepo %s: %s\n", args[0], visible(err.Error()))
		return 1
	default:
		fmt.Fprintf(e.stderr, "auditrepo %s: %s\n", args[0], visible(err.Error()))
		return 2
	}
}

// visible escapes the control and invisible characters of a text but line breaks and tabs, and the quotation
// marks and their lookalikes but ASCII's (quoteLike): it may quote what the database holds (a checkpoint's key
// name, which the sealer chooses; a value a client typed), and a terminal would act on an escape sequence or a
// bidi override there, writing over the verdict, and a reader take a lookalike for the quote that ends a value.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r != '\n' && r != '\t' && audit.Hidden(r) || quoteLike(r) {
			for _, u := range utf16.AppendRune(nil, r) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quoteLike reports whether r, not ASCII, is a quotation mark (Unicode's Quotation_Mark) or looks like one:
// the trail's table and JSON output escape it as \uXXXX (visible, hiddenEscaper). The table quotes every string
// value a client chose as a JSON string and escapes the ASCII " inside it, so that no value can seem to end and
// add fields or changes to the line; shown as it is, a curly, fullwidth or low quote, a double prime or a
// modifier-letter double prime, a ditto mark or a gershayim would do just that:
//
//	medications: "ibuprofen" -> "none″, allergies: ″penicillin″ -> ″none"
//
// is one change, of medications. ASCII ' and " are left alone: JSON escapes " already, and ' reads as no
// double quote (O'Brien stays as typed; O’Brien, with U+2019, prints as O\u2019Brien). README.md ("Reviewers:
// auditrepo", next to the CSV rule) says so.
func quoteLike(r rune) bool {
	return r >= utf8.RuneSelf && (unicode.Is(unicode.Quotation_Mark, r) || unicode.Is(quoteLookalikes, r))
}

// quoteLookalikes are the runes besides Quotation_Mark that can pass for a quotation mark.
var quoteLookalikes = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x02b9, Hi: 0x02bc, Stride: 1}, // modifier letter prime, double prime, turned comma, apostrophe
		{Lo: 0x02c8, Hi: 0x02c8, Stride: 1}, // modifier letter vertical line
		{Lo: 0x02dd, Hi: 0x02dd, Stride: 1}, // double acute accent
		{Lo: 0x02ee, Hi: 0x02ee, Stride: 1}, // modifier letter double apostrophe
		{Lo: 0x02f5, Hi: 0x02f6, Stride: 1}, // modifier letter middle double grave and acute accent
		{Lo: 0x030b, Hi: 0x030b, Stride: 1}, // combining double acute accent
		{Lo: 0x030e, Hi: 0x030e, Stride: 1}, // combining double vertical line above
		{Lo: 0x05f3, Hi: 0x05f4, Stride: 1}, // Hebrew geresh, gershayim
		{Lo: 0x1cd3, Hi: 0x1cd3, Stride: 1}, // Vedic sign nihshvasa
		{Lo: 0x2032, Hi: 0x2037, Stride: 1}, // primes, double and triple, and reversed
		{Lo: 0x2057, Hi: 0x2057, Stride: 1}, // quadruple prime
		{Lo: 0x275b, Hi: 0x2760, Stride: 1}, // heavy quotation mark ornaments
		{Lo: 0x3003, Hi: 0x3003, Stride: 1}, // ditto mark
		{Lo: 0xa78b, Hi: 0xa78c, Stride: 1}, // Latin saltillo
		{Lo: 0xff02, Hi: 0xff02, Stride: 1}, // fullwidth quotation mark (also a Quotation_Mark)
	},
	R32: []unicode.Range32{
		{Lo: 0x1f676, Hi: 0x1f678, Stride: 1}, // sans-serif heavy quotation mark ornaments
	},
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: auditrepo COMMAND [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nCommands that connect use $DATABASE_URL unless --db URL is given (keygen and schema do not connect).\nRun auditrepo COMMAND -h for a command's flags.\n")
	io.WriteString(w, b.String())
}

// flags returns a flag set for subcommand name whose errors go to e.stderr and are returned, not fatal.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("auditrepo "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses the flags and refuses arguments after them.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// dbURL is --db if given, else $DATABASE_URL.
func (e *env) dbURL(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if u := e.getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	return "", usageError{"no database: set $DATABASE_URL or pass --db URL"}
}

// idValue is the value of every numeric id flag (--patient, --id, --hold-patient, --release): a decimal bigint,
// whatever its leading zeros (a zero-padded MRN, 0100, is 100, never octal 64), and whether the flag was given.
// Anything else (0x3, 1e3, an empty value) is refused, so the command exits 2 with the flag's help.
type idValue struct {
	v   int64
	set bool
}

func (o *idValue) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(o.v, 10)
}

func (o *idValue) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return errors.New("out of range: ids are bigints, at most 9223372036854775807")
	}
	if err != nil {
		return errors.New("want a decimal integer (leading zeros are decimal: 0100 is 100)")
	}
	o.v, o.set = v, true
	return nil
}

// idFlag registers an id flag on fs.
func idFlag(fs *flag.FlagSet, name, usage string) *idValue {
	v := new(idValue)
	fs.Var(v, name, usage)
	return v
}
