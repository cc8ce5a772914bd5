package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/jsontree"
)

func init() {
	commands["trail"] = command{summary: "print every audit event of a patient (as the reviewer role)", run: trailCmd}
	commands["record"] = command{summary: "print one record's history, every version in full (as the reviewer role)", run: recordCmd}
}

// progressEvery is how many events pass between two progress lines.
const progressEvery = 10000

// readFlags are the flags trail and record share.
type readFlags struct {
	db, format, actorQuery, actorDB string
	bom, progress                   bool
	progressSet                     bool // --progress was given, as true or false
	config                          auditschema.Config
}

// register adds the flags to fs.
func (r *readFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.db, "db", "", "database URL (default $DATABASE_URL); connect as the reviewer role")
	registerNames(fs, &r.config, schemaName, tableName, auditName, writerName)
	fs.StringVar(&r.format, "format", "table", "output format: table (for people), csv (for spreadsheets; a cell beginning with = + - @, a tab or a carriage return, unless it is a number such as -5, gets a ' prefix so no spreadsheet runs it as a formula) or json (JSON Lines, values as stored)")
	fs.StringVar(&r.actorQuery, "actor-query", "", "SQL taking $1 = actor id and returning (name, role), to name the actors; name its tables with their schema (the search_path is pg_catalog); it runs read-only with row_security off")
	fs.StringVar(&r.actorDB, "actor-db", "", "database URL for --actor-query (default: the --db connection): a login that may read the actors' table but not the trail, since what the tables' owner attaches to them (a view's or an index's functions) runs as the login that queries them")
	fs.BoolVar(&r.bom, "bom", false, "csv: begin with a UTF-8 byte order mark (for spreadsheets that need one)")
	fs.BoolVar(&r.progress, "progress", false, "report progress on stderr (default: when stderr is a terminal)")
}

// check validates the flags fs parsed into r.
func (r *readFlags) check(fs *flag.FlagSet) error {
	switch r.format {
	case "table", "csv", "json":
	default:
		return usageError{fmt.Sprintf("--format %q: want table, csv or json", r.format)}
	}
	if r.bom && r.format != "csv" {
		return usageError{fmt.Sprintf("--bom applies to --format csv only, not %s", r.format)}
	}
	if r.actorDB != "" && r.actorQuery == "" {
		return usageError{"--actor-db applies to --actor-query only"}
	}
	fs.Visit(func(f *flag.Flag) { r.progressSet = r.progressSet || f.Name == "progress" })
	return nil
}

func (r *readFlags) trail() audit.Trail {
	return audit.Trail{Table: r.config.QualifiedTable()}
}

func trailCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("trail")
	var rf readFlags
	rf.register(fs)
	patient := idFlag(fs, "patient", "the patient's `ID`, in decimal (required)")
	fromS := fs.String("from", "", "first day (YYYY-MM-DD, UTC) or instant (RFC 3339) to include")
	toS := fs.String("to", "", "last day (YYYY-MM-DD, UTC, included) or instant (RFC 3339, excluded)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !patient.set {
		return usageError{"--patient ID is required"}
	}
	if err := rf.check(fs); err != nil {
		return err
	}
	from, err := parseDate("--from", *fromS, false)
	if err != nil {
		return err
	}
	to, err := parseDate("--to", *toS, true)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return usageError{fmt.Sprintf("--from %s is not before --to %s", *fromS, *toS)}
	}
	return rf.run(ctx, e, false, func(db *pgxpool.Pool, f func(audit.Event) error) error {
		return rf.trail().EachPatient(ctx, db, patient.v, from, to, f)
	}, fmt.Sprintf("patient %d", patient.v))
}

func recordCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("record")
	var rf readFlags
	rf.register(fs)
	table := fs.String("table", "", "the audited table, as its model's table tag names it (e.g. visits or billing.invoices; a table of schema public is found as visits or public.visits); required")
	id := idFlag(fs, "id", "the record's `ID`, in decimal (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *table == "" || !id.set {
		return usageError{"--table T and --id N are required"}
	}
	if err := rf.check(fs); err != nil {
		return err
	}
	return rf.run(ctx, e, true, func(db *pgxpool.Pool, f func(audit.Event) error) error {
		if err := rf.knownTable(ctx, db, *table); err != nil {
			return err
		}
		return rf.trail().EachRecord(ctx, db, *table, id.v, f)
	}, fmt.Sprintf("%s %d", *table, id.v))
}

// knownTable refuses a table that no audit row names and that is not registered as audited, most likely a typo.
func (r *readFlags) knownTable(ctx context.Context, db *pgxpool.Pool, table string) error {
	ok, err := r.trail().HasTable(ctx, db, table)
	if err != nil || ok {
		return err
	}
	// The names the trail is searched under (audit.Trail: a table of public with or without its schema), and an
	// audited table of another schema named without it, which is named back.
	var elsewhere string
	err = db.QueryRow(ctx, "SELECT coalesce(bool_or(n.nspname || '.' || c.relname = $1 OR n.nspname = 'public' AND c.relname = $1), false),"+
		" coalesce(min(n.nspname || '.' || c.relname) FILTER (WHERE c.relname = $1), '') FROM "+pgx.Identifier{r.config.Schema, "audited_tables"}.Sanitize()+
		" a JOIN pg_catalog.pg_class c ON c.oid = a.tbl JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace", table).Scan(&ok, &elsewhere)
	if err != nil || ok {
		return err
	}
	if elsewhere != "" {
		return usageError{fmt.Sprintf("unknown table %q: the audited table of that name is %s, outside schema public: name it --table %s", table, elsewhere, elsewhere)}
	}
	names, err := r.tableNames(ctx, db)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usageError{fmt.Sprintf("unknown table %q: this audit schema audits no table and has no audit row (check --db, --schema and --audit-table)", table)}
	}
	return usageError{fmt.Sprintf("unknown table %q: no audit row names it and it is not an audited table; the tables here: %s (a table of schema public is found with or without public.)",
		table, strings.Join(names, ", "))}
}

// tableNames are the tables record can be asked for, sorted: the audited tables and those the audit rows name (a
// table no longer audited keeps its rows), each of schema public without it. The audit rows' names are read by
// skipping from one to the next along the (target_table, target_id) index, a probe per name, not a scan.
func (r *readFlags) tableNames(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, `WITH RECURSIVE trail(name) AS (
			(SELECT target_table FROM `+r.config.QualifiedTable()+` ORDER BY target_table LIMIT 1)
			UNION ALL
			SELECT (SELECT target_table FROM `+r.config.QualifiedTable()+` WHERE target_table > trail.name ORDER BY target_table LIMIT 1)
			FROM trail WHERE trail.name IS NOT NULL
		)
		SELECT name FROM trail WHERE name IS NOT NULL
		UNION
		SELECT n.nspname || '.' || c.relname FROM `+pgx.Identifier{r.config.Schema, "audited_tables"}.Sanitize()+` a
		JOIN pg_catalog.pg_class c ON c.oid = a.tbl JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`)
	if err != nil {
		return nil, fmt.Errorf("listing the audited tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing the audited tables: %w", err)
	}
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "public.")
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// parseDate reads a date (midnight UTC; for an end, the midnight after it, so the day is included) or an
// RFC 3339 instant. Empty is the zero time: no bound.
func parseDate(name, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("%s %q is not a date: use YYYY-MM-DD (e.g. 2026-01-31) or RFC 3339 (e.g. 2026-01-31T14:00:00Z)", name, s)}
}

// connect opens a small pool: the trail streams on one connection while actor names are looked up on another.
func connect(ctx context.Context, e *env, flagValue string) (*pgxpool.Pool, error) {
	url, err := e.dbURL(flagValue)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, usageError{fmt.Sprintf("bad database URL: %v", err)}
	}
	cfg.MaxConns = 2
	// The reviewer, sealer and owner roles run this: no function or operator another role put in public (the owner
	// may create there) may stand in for a built-in that matches its arguments less exactly, and run as them.
	cfg.ConnConfig.RuntimeParams["search_path"] = "pg_catalog, pg_temp"
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to the database (check --db or $DATABASE_URL): %w", err)
	}
	return db, nil
}

// run connects, streams the events each yields into the chosen format, and reports progress. record selects
// the per-version layout of the table format.
func (r *readFlags) run(ctx context.Context, e *env, record bool, each func(*pgxpool.Pool, func(audit.Event) error) error, what string) error {
	db, err := connect(ctx, e, r.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkRevision(ctx, db, r.config, audit.ErrNoTrailAccess); err != nil {
		return err
	}
	actors := &actorNames{db: db, query: r.actorQuery, cache: map[int64]actorName{}}
	if r.actorDB != "" {
		if actors.db, err = connect(ctx, e, r.actorDB); err != nil {
			return err
		}
		defer actors.db.Close()
	}
	var out eventWriter
	switch r.format {
	case "csv":
		out, err = newCSVWriter(e.stdout, r.bom)
	case "json":
		out = newJSONWriter(e.stdout)
	default:
		out = newTableWriter(e.stdout, record)
	}
	if err != nil {
		return err
	}
	progress := r.progress || !r.progressSet && isTerminal(e.stderr)
	n := 0
	err = each(db, func(ev audit.Event) error {
		a, err := actors.lookup(ctx, ev.ActorID)
		if err != nil {
			return err
		}
		if err := out.write(ev, a); err != nil {
			return err
		}
		n++
		if progress && n%progressEvery == 0 {
			fmt.Fprintf(e.stderr, "auditrepo: %d events\n", n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	if progress {
		fmt.Fprintf(e.stderr, "auditrepo: %d events, done\n", n)
	}
	if n == 0 {
		fmt.Fprintf(e.stderr, "auditrepo: no events for %s\n", what)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// actorName is what --actor-query says of an actor.
type actorName struct{ name, role string }

// actorNames looks actors up with --actor-query, once per id.
type actorNames struct {
	db    *pgxpool.Pool
	query string
	cache map[int64]actorName
}

func (a *actorNames) lookup(ctx context.Context, id *int64) (actorName, error) {
	if a.query == "" || id == nil {
		return actorName{}, nil
	}
	if n, ok := a.cache[*id]; ok {
		return n, nil
	}
	var name, role *string
	// Read-only, and with row_security off: a policy the tables' owner put on them fails the query instead of
	// running its functions as this login.
	err := pgx.BeginTxFunc(ctx, a.db, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, a.query, *id).Scan(&name, &role)
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return actorName{}, fmt.Errorf("--actor-query for actor %d: %w", *id, err)
	}
	n := actorName{name: deref(name), role: deref(role)}
	a.cache[*id] = n
	return n, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// eventWriter writes events in one output format.
type eventWriter interface {
	write(audit.Event, actorName) error
	flush() error
}

// excluded lists the changed fields that neither image holds: the excluded columns, named but never valued.
func excluded(ev audit.Event) []string {
	var out []string
	for _, f := range ev.ChangedFields {
		_, inBefore := ev.Before[f]
		_, inAfter := ev.After[f]
		if !inBefore && !inAfter {
			out = append(out, f)
		}
	}
	return out
}

// image is the record as the event leaves it: the after-image, or for a deletion the deleted record.
func image(ev audit.Event) map[string]any {
	if ev.After != nil {
		return ev.After
	}
	return ev.Before
}

// value renders one image value for the table views so that no stored value reads as another value, another
// field's change or a marker: the redaction marker bare ([REDACTED]), every other string as a JSON string (so its
// commas, arrows, colons, quotes and line breaks stay visibly inside the quotes), and numbers, booleans, null,
// arrays and objects as JSON. The table's markers ([REDACTED], (excluded), (absent)) are unquoted, as no string
// is. The control and invisible characters that JSON leaves as they are (DEL, the C1 controls, bidi and other
// invisible characters) are escaped as \uXXXX (visible), as in the JSON output: inside quotes an escape is
// unambiguous, where dropping them would show two different values alike.
func value(v any) string {
	if v == audit.Redacted {
		return audit.Redacted
	}
	if raw, ok := v.(json.RawMessage); ok { // too deep to decode: its compact JSON text (audit.Event)
		return visible(string(raw))
	}
	b, err := marshal(v)
	if err != nil { // images are decoded JSON: cannot happen
		b = strconv.Quote(fmt.Sprint(v))
	}
	return visible(b)
}

// quoted is free text a client or the application chose (user agent, request id, application name, an actor's
// name) as a JSON string, its invisible characters escaped: no spacing or punctuation in it can read as more
// fields of the line. Database role names are quoted too: an imported row's was read from a user agent.
func quoted(s string) string {
	b, err := marshal(s)
	if err != nil { // a string always marshals
		b = strconv.Quote(s)
	}
	return visible(b)
}

// imageValue is value of the image's field f, or (absent) if the image lacks it.
func imageValue(m map[string]any, f string) string {
	v, ok := m[f]
	if !ok {
		return "(absent)"
	}
	return value(v)
}

// imageJSON is an image as JSON: marshal of the map, but a value too deep to have been decoded (a
// json.RawMessage, audit.Event) written as its text: encoding/json compacts a RawMessage, and refuses one more
// than 10,000 levels deep, which PostgreSQL stores.
func imageJSON(m map[string]any) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range sortedKeys(m) { // as encoding/json orders a map's keys
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := marshal(k)
		if err != nil {
			return "", err
		}
		b.WriteString(key)
		b.WriteByte(':')
		if raw, ok := m[k].(json.RawMessage); ok {
			b.Write(raw)
			continue
		}
		v, err := marshal(m[k])
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String(), nil
}

// marshal is json.Marshal without its HTML escaping: & < > stay as stored, not \u0026 \u003c \u003e.
func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func addr(ev audit.Event) string {
	if !ev.IP.IsValid() {
		return ""
	}
	return ev.IP.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonWriter writes JSON Lines: one object per event.
type jsonWriter struct{ w io.Writer }

// newJSONWriter writes to w with hidden runes escaped (hiddenEscaper) and values otherwise as stored: no HTML
// escaping of & < >.
func newJSONWriter(w io.Writer) *jsonWriter {
	return &jsonWriter{w: hiddenEscaper{w}}
}

type jsonActor struct {
	Kind audit.ActorKind `json:"kind"`
	ID   *int64          `json:"id"`
	Name string          `json:"name,omitempty"`
	Role string          `json:"role,omitempty"`
}

type jsonEvent struct {
	ID             int64        `json:"id"`
	OccurredAt     string       `json:"occurred_at"`
	TransactionID  string       `json:"transaction_id"` // a string: xid8 exceeds what JSON numbers hold exactly
	DBRole         string       `json:"db_role"`
	ClientAddr     string       `json:"client_addr,omitempty"`
	Application    string       `json:"application"`
	Actor          jsonActor    `json:"actor"`
	IP             string       `json:"ip,omitempty"`
	UserAgent      string       `json:"user_agent,omitempty"`
	RequestID      string       `json:"request_id,omitempty"`
	Method         string       `json:"method,omitempty"`
	Action         audit.Action `json:"action"`
	Table          string       `json:"table"`
	RecordID       int64        `json:"record_id"`
	PatientID      *int64       `json:"patient_id"`
	PriorPatientID *int64       `json:"prior_patient_id"`
	ChangedFields  []string     `json:"changed_fields,omitempty"`
	ExcludedFields []string     `json:"excluded_fields,omitempty"`
	// Then "before" and "after" (the images, if any) and "changes" (MOVE rows only: their changes as stored),
	// which jsonWriter.write appends itself: encoding/json refuses a json.RawMessage more than 10,000 levels
	// deep, and the trail may hold one.
}

func (w *jsonWriter) write(ev audit.Event, a actorName) error {
	j := jsonEvent{
		ID: ev.ID, OccurredAt: ev.OccurredAt.UTC().Format(time.RFC3339Nano), TransactionID: strconv.FormatUint(ev.TransactionID, 10),
		DBRole: ev.DBRole, Application: ev.Application,
		Actor: jsonActor{Kind: ev.ActorKind, ID: ev.ActorID, Name: a.name, Role: a.role},
		IP:    addr(ev), UserAgent: ev.UserAgent, RequestID: ev.RequestID, Method: ev.Method,
		Action: ev.Action, Table: ev.Table, RecordID: ev.RecordID, PatientID: ev.PatientID, PriorPatientID: ev.PriorPatientID,
		ChangedFields: ev.ChangedFields, ExcludedFields: excluded(ev),
	}
	if ev.ClientAddr.IsValid() {
		j.ClientAddr = ev.ClientAddr.String()
	}
	line, err := marshal(j)
	if err != nil {
		return err
	}
	line = strings.TrimSuffix(line, "}")
	for _, f := range []struct {
		name string
		m    map[string]any
	}{{"before", ev.Before}, {"after", ev.After}} {
		if len(f.m) == 0 { // omitempty, as encoding/json omits an empty map
			continue
		}
		img, err := imageJSON(f.m)
		if err != nil {
			return err
		}
		line += `,"` + f.name + `":` + img
	}
	if ev.Action == audit.ActionMove && len(ev.Changes) > 0 {
		if _, err := jsontree.Parse(ev.Changes); err != nil {
			return fmt.Errorf("event %d: changes: %w", ev.ID, err)
		}
		line += `,"changes":` + string(jsontree.Compact(ev.Changes))
	}
	_, err = io.WriteString(w.w, line+"}\n")
	return err
}

func (w *jsonWriter) flush() error { return nil }

// hiddenEscaper passes JSON text on with every rune that audit.CleanText drops and encoding/json leaves as it is
// (DEL, the C1 controls, bidi and other invisible characters) escaped as \uXXXX, and every non-ASCII quotation
// mark or lookalike (quoteLike): the same JSON values, but nothing in them can move a terminal's cursor or
// reorder what it shows, or seem to end a string. Non-ASCII runes only occur inside JSON strings, and each
// value is written whole, so no rune is split between writes.
type hiddenEscaper struct{ w io.Writer }

func (h hiddenEscaper) Write(p []byte) (int, error) {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r >= 0x7f && audit.Hidden(r) || quoteLike(r): // DEL and beyond; encoding/json writes valid UTF-8 only
			for _, u := range utf16.AppendRune(nil, r) {
				b = fmt.Appendf(b, `\u%04x`, u)
			}
		default:
			b = append(b, p[i:i+size]...)
		}
		i += size
	}
	if _, err := h.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// csvWriter writes RFC 4180 CSV, one row per event, with the images as JSON.
type csvWriter struct{ w *csv.Writer }

var csvHeader = []string{"id", "occurred_at", "transaction_id", "db_role", "client_addr", "application", "actor_kind", "actor_id",
	"actor_name", "actor_role", "ip", "user_agent", "request_id", "method", "action", "table", "record_id", "patient_id",
	"prior_patient_id", "changed_fields", "excluded_fields", "before", "after", "changes"}

func newCSVWriter(w io.Writer, bom bool) (*csvWriter, error) {
	if bom {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return nil, err
		}
	}
	c := &csvWriter{w: csv.NewWriter(w)}
	return c, c.w.Write(csvHeader)
}

func (c *csvWriter) write(ev audit.Event, a actorName) error {
	images := func(m map[string]any) (string, error) {
		if m == nil {
			return "", nil
		}
		return imageJSON(m) // keys sorted
	}
	before, err := images(ev.Before)
	if err != nil {
		return err
	}
	after, err := images(ev.After)
	if err != nil {
		return err
	}
	var changes string
	if ev.Action == audit.ActionMove {
		changes = string(ev.Changes)
	}
	var client string
	if ev.ClientAddr.IsValid() {
		client = ev.ClientAddr.String()
	}
	row := []string{strconv.FormatInt(ev.ID, 10), ev.OccurredAt.UTC().Format(time.RFC3339Nano), strconv.FormatUint(ev.TransactionID, 10),
		ev.DBRole, client, ev.Application, string(ev.ActorKind), optInt(ev.ActorID), a.name, a.role, addr(ev), ev.UserAgent,
		ev.RequestID, ev.Method, string(ev.Action), ev.Table, strconv.FormatInt(ev.RecordID, 10), optInt(ev.PatientID),
		optInt(ev.PriorPatientID), strings.Join(ev.ChangedFields, ";"), strings.Join(excluded(ev), ";"), before, after, changes}
	for i, s := range row {
		row[i] = csvSafe(s)
	}
	return c.w.Write(row)
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CWE-1236): a leading = + - @ (or tab or
// carriage return, which some spreadsheets skip before one) gets a quote prefix, unless the cell is a number
// (-5, -0.5, +1e3), which no spreadsheet runs. README.md and --format's help describe this.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !number.MatchString(s) {
		return "'" + s
	}
	return s
}

var number = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// tableWriter aligns events for people. The trail layout is one line per event; the record layout prints each
// version's full image under its event. It flushes every tableBlock lines so a long trail is not held in memory
// (columns are aligned within each block).
type tableWriter struct {
	tw     *tabwriter.Writer
	record bool
	lines  int
}

const tableBlock = 1000

func newTableWriter(w io.Writer, record bool) *tableWriter {
	t := &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), record: record}
	if !record {
		fmt.Fprintln(t.tw, "TIME\tACTOR\tIP\tUSER AGENT\tACTION\tRECORD\tPATIENT\tCHANGES")
	}
	return t
}

// cell makes text safe for one cell of the table: line breaks and tabs become spaces (so words stay apart) and
// no other control character (a terminal escape, say) from the trail's values reaches the terminal. It keeps the
// whole value, however long: a cut would hide part of a change.
func cell(s string) string {
	s = spaces.Replace(s)
	return audit.CleanText(s, len(s))
}

var spaces = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

func actorText(ev audit.Event, a actorName) string {
	s := string(ev.ActorKind)
	if ev.ActorID != nil {
		s += " " + strconv.FormatInt(*ev.ActorID, 10)
	}
	// The name and role are the application's data (a user may edit their own name): quoted, as free text is.
	switch {
	case a.name != "" && a.role != "":
		s += " (" + quoted(a.name) + ", " + quoted(a.role) + ")"
	case a.name != "":
		s += " (" + quoted(a.name) + ")"
	case a.role != "":
		s += " (" + quoted(a.role) + ")"
	}
	if ev.ActorKind == audit.KindUnattributed {
		s += " (" + attribution(ev) + ")"
	}
	return s
}

// attribution is what the server recorded of an unattributed row's writer, all the table shows of who it was:
// the database role, the client address (none for a local socket) and the application name.
func attribution(ev audit.Event) string {
	s := "db role " + quoted(ev.DBRole)
	if ev.ClientAddr.IsValid() {
		s += ", client " + ev.ClientAddr.String()
	}
	if ev.Application != "" {
		s += ", application " + quoted(ev.Application)
	}
	return s
}

func patientText(ev audit.Event) string {
	s := optInt(ev.PatientID)
	if ev.PriorPatientID != nil {
		s += " (from " + optInt(ev.PriorPatientID) + ")"
	}
	return s
}

// changesText summarizes an event on one line: the changed fields with their old and new values, the created
// or deleted record's fields, or a MOVE row's changes as stored. Values are rendered by value: strings quoted,
// so that a value cannot add changes to the line.
func changesText(ev audit.Event) string {
	var parts []string
	switch {
	case ev.Action == audit.ActionUpdate:
		for _, f := range ev.ChangedFields {
			_, inBefore := ev.Before[f]
			_, inAfter := ev.After[f]
			if !inBefore && !inAfter {
				parts = append(parts, f+": (excluded)")
				continue
			}
			parts = append(parts, f+": "+imageValue(ev.Before, f)+" -> "+imageValue(ev.After, f))
		}
	case ev.Before == nil && ev.After == nil:
		return string(ev.Changes)
	default:
		m := image(ev)
		for _, k := range sortedKeys(m) {
			parts = append(parts, k+"="+value(m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func (t *tableWriter) write(ev audit.Event, a actorName) error {
	when := ev.OccurredAt.UTC().Format("2006-01-02 15:04:05 MST")
	if !t.record {
		agent := ev.UserAgent
		if agent != "" {
			agent = quoted(agent)
		}
		fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", when, cell(actorText(ev, a)), addr(ev), cell(agent),
			ev.Action, cell(ev.Table)+" "+strconv.FormatInt(ev.RecordID, 10), patientText(ev), cell(changesText(ev)))
		t.lines++
	} else {
		t.lines += t.writeVersion(ev, a, when)
	}
	if t.lines >= tableBlock {
		t.lines = 0
		return t.tw.Flush()
	}
	return nil
}

// writeVersion prints one version of a record: the event, then every field of the image it leaves, changed
// fields marked with their previous value.
func (t *tableWriter) writeVersion(ev audit.Event, a actorName, when string) int {
	head := fmt.Sprintf("%s  %s  %s %d  by %s", when, ev.Action, ev.Table, ev.RecordID, actorText(ev, a))
	if ip := addr(ev); ip != "" {
		head += "  ip " + ip
	}
	if ev.UserAgent != "" {
		head += "  agent " + quoted(ev.UserAgent)
	}
	if ev.RequestID != "" {
		head += "  request " + quoted(ev.RequestID)
	}
	head += "  patient " + patientText(ev)
	fmt.Fprintf(t.tw, "%s\n", cell(head))
	lines := 1
	m := image(ev)
	switch {
	case m == nil: // a MOVE row holding no image
		fmt.Fprintf(t.tw, "  changes\t%s\n\n", cell(string(ev.Changes)))
		return lines + 2
	case ev.Action == audit.ActionDelete:
		fmt.Fprintln(t.tw, "  (deleted; the record as it was)")
		lines++
	}
	for _, k := range sortedKeys(m) {
		mark, was := " ", ""
		if slices.Contains(ev.ChangedFields, k) {
			mark = "*"
			if b, ok := ev.Before[k]; ok {
				was = "\t(was " + cell(value(b)) + ")"
			}
		}
		fmt.Fprintf(t.tw, "  %s %s\t%s%s\n", mark, cell(k), cell(value(m[k])), was)
		lines++
	}
	for _, f := range excluded(ev) {
		fmt.Fprintf(t.tw, "  * %s\t(excluded: changed, value not recorded)\n", cell(f))
		lines++
	}
	fmt.Fprintln(t.tw)
	return lines + 1
}

func (t *tableWriter) flush() error { return t.tw.Flush() }
