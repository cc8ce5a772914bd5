package reliability_test

// Shared helpers of the reliability tests: a per-test database with a sized pool and fixture rows, a
// superuser connection to the same database for fault injection, and readers and checkers of the audit trail.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/testdb"
)

// rig is one test's database: a pool of maxConns connections configured exactly as testdb.Pool's (same
// role and settings), strict repositories over it, and fixture rows written as a system actor.
type rig struct {
	pool *pgxpool.Pool
	q    *db.Queries
	r    *repo.Repos
	ctx  context.Context // carries a user actor (the dentist)
	sys  context.Context // carries a system actor

	patient, patient2, dentist, clinic int64
}

func newRig(t testing.TB, maxConns int32, tweaks ...func(*pgxpool.Config)) *rig {
	t.Helper()
	base := testdb.Pool(t)
	cfg := base.Config()
	cfg.MaxConns = maxConns
	for _, f := range tweaks {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	g := &rig{pool: pool, q: db.New(pool), r: repo.New(pool)}
	g.sys = audit.WithSystem(context.Background(), "reliability-fixture")
	user := func(name, typ, role string) int64 {
		u, err := g.r.User.Create(g.sys, db.CreateUserParams{
			Username: name, Email: name + "@test.example", Password: "fixture-pass", UserType: typ, Role: role,
		})
		if err != nil {
			t.Fatalf("fixture user %s: %v", name, err)
		}
		return u.ID
	}
	g.patient = user("patient1", "patient", "")
	g.patient2 = user("patient2", "patient", "")
	g.dentist = user("dentist1", "staff", "dentist")
	c, err := g.q.CreateClinicLocation(context.Background(), db.CreateClinicLocationParams{Name: "Clinic", Address: "1 Test St"})
	if err != nil {
		t.Fatalf("fixture clinic: %v", err)
	}
	g.clinic = c.ID
	g.ctx = audit.WithActor(context.Background(), audit.Actor{UserID: g.dentist, Kind: audit.KindUser, UserAgent: "reliability/1"})
	return g
}

// asyncCommit makes the pool's sessions commit without waiting for the WAL flush (synchronous_commit=off, a
// per-session setting). It changes durability across a server crash only, not atomicity, visibility or lock
// order, and lets tests that serialise thousands of commits on one row lock run at CPU speed instead of
// at fsync speed.
func asyncCommit(cfg *pgxpool.Config) {
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
}

// newAppointment creates an appointment of the fixture patient.
func (g *rig) newAppointment(t testing.TB, typ string) db.Appointment {
	t.Helper()
	a, err := g.r.Appointment.Create(g.sys, db.CreateAppointmentParams{
		PatientID: g.patient, DentistID: g.dentist, ClinicID: pgtype.Int8{Int64: g.clinic, Valid: true},
		Date: pgtype.Date{Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Valid: true},
		Time: pgtype.Time{Microseconds: 9 * 3600e6, Valid: true}, Type: typ, Status: "scheduled", Notes: "secret note",
	})
	if err != nil {
		t.Fatalf("create appointment: %v", err)
	}
	return a
}

// apptUpdate is the full update of a that changes only its type.
func apptUpdate(a db.Appointment, typ string) db.UpdateAppointmentParams {
	return db.UpdateAppointmentParams{
		ID: a.ID, PatientID: a.PatientID, DentistID: a.DentistID, ClinicID: a.ClinicID, Date: a.Date, Time: a.Time,
		Type: typ, Status: a.Status, Notes: a.Notes,
	}
}

// superConn connects to the pool's database as the cluster superuser (PGUSER, default postgres; the same
// account testdb and pgtestdb use to create databases). The tests use it only to inject faults, to observe
// backends and, as a negative control, to make a change that bypasses the audit trail on purpose.
func superConn(t testing.TB, pool *pgxpool.Pool) *pgx.Conn {
	t.Helper()
	cfg := pool.Config().ConnConfig.Copy()
	cfg.User = orDefault(os.Getenv("PGUSER"), "postgres")
	cfg.Password = os.Getenv("PGPASSWORD")
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("superuser connection: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// appConn opens a connection outside the pool with the pool's own settings (role, database, parameters).
func appConn(ctx context.Context, pool *pgxpool.Pool, tweak func(*pgx.ConnConfig)) (*pgx.Conn, error) {
	cfg := pool.Config().ConnConfig.Copy()
	if tweak != nil {
		tweak(cfg)
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// trailRow is one audit_log row with its changes decoded (numbers as json.Number).
type trailRow struct {
	ID, TxID    int64
	Action      string
	TargetTable string
	TargetID    int64
	ActorKind   string
	IP          *string
	UserAgent   *string
	RequestID   *string
	PatientID   *int64
	Raw         []byte         // changes as PostgreSQL returned them
	Ch          map[string]any // changes, decoded
}

// image returns the record image the row describes: after for CREATE/UPDATE, deleted_record for DELETE.
func (r trailRow) image() map[string]any {
	key := "after"
	if r.Action == "DELETE" {
		key = "deleted_record"
	}
	m, _ := r.Ch[key].(map[string]any)
	return m
}

const trailCols = `id, transaction_id, action, target_table, target_id, actor_kind, host(ip), user_agent, request_id, patient_id, changes::text`

func scanTrail(rows pgx.Rows) ([]trailRow, error) {
	defer rows.Close()
	var out []trailRow
	for rows.Next() {
		var r trailRow
		var raw string
		if err := rows.Scan(&r.ID, &r.TxID, &r.Action, &r.TargetTable, &r.TargetID, &r.ActorKind, &r.IP, &r.UserAgent,
			&r.RequestID, &r.PatientID, &raw); err != nil {
			return nil, err
		}
		r.Raw = []byte(raw)
		v, err := decodeJSON(r.Raw)
		if err != nil {
			return nil, fmt.Errorf("audit row %d: changes do not decode: %v", r.ID, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("audit row %d: changes are %T, not an object", r.ID, v)
		}
		r.Ch = m
		out = append(out, r)
	}
	return out, rows.Err()
}

// trailOf returns the audit rows of one record in id order.
func trailOf(t testing.TB, q db.DBTX, table string, id int64) []trailRow {
	t.Helper()
	rows, err := q.Query(context.Background(),
		"SELECT "+trailCols+" FROM audit_log WHERE target_table = $1 AND target_id = $2 ORDER BY id", table, id)
	if err != nil {
		t.Fatalf("trail %s/%d: %v", table, id, err)
	}
	out, err := scanTrail(rows)
	if err != nil {
		t.Fatalf("trail %s/%d: %v", table, id, err)
	}
	return out
}

// tableTrails returns every audit row of table grouped by target id, each group in id order.
func tableTrails(t testing.TB, q db.DBTX, table string) map[int64][]trailRow {
	t.Helper()
	rows, err := q.Query(context.Background(),
		"SELECT "+trailCols+" FROM audit_log WHERE target_table = $1 ORDER BY id", table)
	if err != nil {
		t.Fatalf("trails of %s: %v", table, err)
	}
	all, err := scanTrail(rows)
	if err != nil {
		t.Fatalf("trails of %s: %v", table, err)
	}
	out := map[int64][]trailRow{}
	for _, r := range all {
		out[r.TargetID] = append(out[r.TargetID], r)
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

// liveRow is a record as PostgreSQL's to_jsonb renders it now, with its xmin (the transaction that wrote
// this version).
type liveRow struct {
	img  map[string]any
	xmin int64
}

// liveRows returns every row of table as to_jsonb with redacted columns overlaid, keyed by id.
func liveRows(t testing.TB, q db.DBTX, table string, redact []string) map[int64]liveRow {
	t.Helper()
	rows, err := q.Query(context.Background(), fmt.Sprintf("SELECT x.id, x.xmin::text::bigint, to_jsonb(x)::text FROM %s x",
		pgx.Identifier{table}.Sanitize()))
	if err != nil {
		t.Fatalf("live %s: %v", table, err)
	}
	defer rows.Close()
	out := map[int64]liveRow{}
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
		out[id] = liveRow{img: m, xmin: xmin}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("live %s: %v", table, err)
	}
	return out
}

// chainProblems checks one record's trail against itself and the live row, and returns what is wrong:
//   - the trail starts with CREATE and nothing follows a DELETE;
//   - each UPDATE's before and each DELETE's deleted_record equal the previous row's image, so every row
//     describes a version that the previous committed change produced;
//   - changed_fields lists exactly the (non-redacted) columns whose values differ, plus redacted ones;
//   - the record exists iff the trail does not end in DELETE, and then equals the last image and was
//     written by the same transaction as the last audit row (xmin = transaction_id mod 2^32).
func chainProblems(table string, id int64, trail []trailRow, live liveRow, exists bool, redact []string) []string {
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
		img := r.image()
		if img == nil {
			add("audit row %d (%s) has no image: %s", r.ID, r.Action, r.Raw)
			continue
		}
		if got := jsonInt(img["id"]); got != id {
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
			if !reflect.DeepEqual(before, prev.image()) {
				add("UPDATE row %d: before %s differs from row %d's after %s", r.ID, abbrev(r.Ch["before"]), prev.ID, abbrev(prev.image()))
			}
			if msg := changedFieldsProblem(r, redact); msg != "" {
				add("UPDATE row %d: %s", r.ID, msg)
			}
		case r.Action == "DELETE":
			if !reflect.DeepEqual(img, prev.image()) {
				add("DELETE row %d: deleted_record %s differs from row %d's image %s", r.ID, abbrev(img), prev.ID, abbrev(prev.image()))
			}
		}
	}
	last := trail[len(trail)-1]
	switch {
	case last.Action == "DELETE" && exists:
		add("trail ends with DELETE row %d but the row exists: %s", last.ID, abbrev(live.img))
	case last.Action != "DELETE" && !exists:
		add("row is gone but the trail ends with %s row %d (deleted without an audit row)", last.Action, last.ID)
	case exists:
		if !reflect.DeepEqual(live.img, last.image()) {
			add("live row %s differs from the last audit image (row %d) %s", abbrev(live.img), last.ID, abbrev(last.image()))
		}
		if live.xmin != last.TxID%(1<<32) {
			add("live row version written by xid %d, last audit row %d by transaction %d", live.xmin, last.ID, last.TxID)
		}
	}
	return p
}

func changedFieldsProblem(r trailRow, redact []string) string {
	before, _ := r.Ch["before"].(map[string]any)
	after, _ := r.Ch["after"].(map[string]any)
	raw, ok := r.Ch["changed_fields"].([]any)
	if !ok {
		return fmt.Sprintf("changed_fields = %#v", r.Ch["changed_fields"])
	}
	var got []string
	for _, v := range raw {
		s, _ := v.(string)
		got = append(got, s)
	}
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

func jsonInt(v any) int64 {
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

func jsonStr(v any) string {
	s, _ := v.(string)
	return s
}

// short renders v for an error message, truncated.
func abbrev(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

func rowCount(t testing.TB, q db.DBTX, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// pgErr returns the server error in err, if any.
func asPgError(err error) *pgconn.PgError {
	e, _ := errors.AsType[*pgconn.PgError](err)
	return e
}

// errSummary is a compact description of err for logs and tallies.
func errSummary(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, audit.ErrNotFound):
		return "not-found"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "context"
	}
	if e := asPgError(err); e != nil {
		return e.Severity + " " + e.Code
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 60 {
		s = s[i+2:]
	}
	return s
}

// TestChainProblemsDetects feeds chainProblems broken trails, so that its silence on real data means something.
func TestChainProblemsDetects(t *testing.T) {
	img := func(notes string, updated string) map[string]any {
		return map[string]any{"id": json.Number("7"), "notes": notes, "updated_at": updated}
	}
	row := func(id int64, action string, tx int64, ch map[string]any) trailRow {
		return trailRow{ID: id, TxID: tx, Action: action, TargetTable: "t", TargetID: 7, Ch: ch}
	}
	create := row(1, "CREATE", 100, map[string]any{"after": img("a", "t1")})
	update := func(id, tx int64, before, after map[string]any, changed ...any) trailRow {
		return row(id, "UPDATE", tx, map[string]any{"before": before, "after": after, "changed_fields": changed})
	}
	good := []trailRow{create, update(2, 101, img("a", "t1"), img("b", "t2"), "notes", "updated_at")}
	live := liveRow{img: img("b", "t2"), xmin: 101}
	if p := chainProblems("t", 7, good, live, true, nil); len(p) != 0 {
		t.Fatalf("a sound trail is reported: %q", p)
	}
	cases := map[string]struct {
		trail  []trailRow
		live   liveRow
		exists bool
	}{
		"version skipped (an audit row is missing)": {
			[]trailRow{create, update(2, 101, img("x", "t9"), img("b", "t2"), "notes", "updated_at")}, live, true},
		"live row changed without an audit row":      {good, liveRow{img: img("c", "t3"), xmin: 102}, true},
		"live row written by another transaction":    {good, liveRow{img: img("b", "t2"), xmin: 105}, true},
		"audit row without its change (rolled back)": {good, liveRow{img: img("a", "t1"), xmin: 100}, true},
		"deleted without an audit row":               {good, liveRow{}, false},
		"DELETE row but the row exists": {
			append(slices.Clone(good), row(3, "DELETE", 102, map[string]any{"deleted_record": img("b", "t2")})), live, true},
		"DELETE of a version that never existed": {
			append(slices.Clone(good), row(3, "DELETE", 102, map[string]any{"deleted_record": img("z", "t2")})), liveRow{}, false},
		"row after DELETE": {
			append(slices.Clone(good), row(3, "DELETE", 102, map[string]any{"deleted_record": img("b", "t2")}),
				update(4, 103, img("b", "t2"), img("c", "t3"), "notes", "updated_at")), liveRow{}, false},
		"no CREATE":                  {good[1:], live, true},
		"changed_fields incomplete":  {[]trailRow{create, update(2, 101, img("a", "t1"), img("b", "t2"), "updated_at")}, live, true},
		"changed_fields overclaims":  {[]trailRow{create, update(2, 101, img("a", "t1"), img("a", "t2"), "notes", "updated_at")}, liveRow{img: img("a", "t2"), xmin: 101}, true},
		"live row without any trail": {nil, live, true},
	}
	for name, c := range cases {
		if p := chainProblems("t", 7, c.trail, c.live, c.exists, nil); len(p) == 0 {
			t.Errorf("%s: not detected", name)
		}
	}
}
