package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/internal/jsontree"
)

// Redacted is the value the trail holds in place of a redacted field's value.
const Redacted = "[REDACTED]"

// ErrNoTrailAccess is matched (errors.Is) by the error a Trail returns when the connecting role may not read
// the audit table (SQLSTATE 42501): the application's role never may, the reviewer role may.
var ErrNoTrailAccess = errors.New("audit: permission denied reading the audit trail: connect as the reviewer role (auditrepo_reviewer, unless the audit schema was installed with another)")

// ErrRowSecurity is matched by the error a Trail returns when the audit table has row-level security that would
// apply to the read: the schema installs none, so someone (a superuser) added it, and a policy can hide rows from
// the reviewers that Verify still sees. A Trail reads with row_security off, so the read fails rather than
// silently lose the rows.
var ErrRowSecurity = errors.New("audit: the audit table has row-level security, which would hide rows from the trail (the schema installs none, so it was added since): remove it (DROP POLICY ..., ALTER TABLE ... DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY) and run auditrepo verify")

// DefaultTrailTable is the audit table a Trail reads when its Table is empty.
const DefaultTrailTable = "auditrepo.audit_log"

// Event is one audit row, decoded.
type Event struct {
	ID            int64
	OccurredAt    time.Time
	TransactionID uint64
	DBRole        string     // the session's database role
	ClientAddr    netip.Addr // the database client's address; zero for a Unix socket
	Application   string     // the session's application_name
	ActorKind     ActorKind
	ActorID       *int64
	IP            netip.Addr // the end user's address, as the application claimed it; zero when unknown
	UserAgent     string
	RequestID     string
	Method        string
	Action        Action
	Table         string // the audited table, as the audit row names it
	RecordID      int64
	PatientID     *int64
	// PriorPatientID is set when the change moved the record away from this patient.
	PriorPatientID *int64
	// Before and After are the record's images: After for CREATE, both for UPDATE, Before (the deleted record)
	// for DELETE, neither for MOVE (its Changes say from and to which patient). Numbers are json.Number, so
	// large ids stay exact; redacted values are Redacted; excluded columns are absent. A value nested too deep
	// for encoding/json to decode (more than 10,000 levels, which PostgreSQL may store) is a json.RawMessage
	// holding its JSON text, compacted.
	Before, After map[string]any
	// ChangedFields lists the fields an UPDATE changed, including redacted and excluded ones.
	ChangedFields []string
	// Changes is the row's changes column as stored.
	Changes json.RawMessage
}

// Trail reads the audit trail. Its zero value reads DefaultTrailTable.
type Trail struct {
	// Table is the audit table, schema-qualified and quoted as SQL needs it (auditschema.Config.QualifiedTable).
	Table string
}

const trailColumns = `id, occurred_at, transaction_id::text, db_role, host(client_addr), application, actor_kind, actor_id,
	host(ip), user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes`

func (t Trail) table() string {
	if t.Table == "" {
		return DefaultTrailTable
	}
	return t.Table
}

// ListPatient returns the patient's events in the order they were written (by audit row id): the rows filed
// under the patient and those recording a record moved away from them. An event's OccurredAt is its
// transaction's start, so a transaction that began earlier but wrote later shows an earlier time after a later
// one. Only events with from <= OccurredAt < to are returned; a zero from or to leaves
// that end open.
func (t Trail) ListPatient(ctx context.Context, db DBTX, patientID int64, from, to time.Time) ([]Event, error) {
	return collect(func(f func(Event) error) error { return t.EachPatient(ctx, db, patientID, from, to, f) })
}

// EachPatient calls f for each event ListPatient would return, in the same order, without holding them all in
// memory. An error from f stops the iteration and is returned.
func (t Trail) EachPatient(ctx context.Context, db DBTX, patientID int64, from, to time.Time, f func(Event) error) error {
	where := []string{"(patient_id = $1 OR prior_patient_id = $1)"}
	args := []any{patientID}
	// Bounds are added only when given, so the planner can prune the monthly partitions.
	if !from.IsZero() {
		args = append(args, from)
		where = append(where, fmt.Sprintf("occurred_at >= $%d", len(args)))
	}
	if !to.IsZero() {
		args = append(args, to)
		where = append(where, fmt.Sprintf("occurred_at < $%d", len(args)))
	}
	return t.each(ctx, db, strings.Join(where, " AND "), args, f)
}

// ListRecord returns every event of one record of table (as the audit rows name it: its model's table tag, such
// as visits or billing.invoices), in the order they were written (by audit row id). A table of schema public is
// found under both names, visits and public.visits, whichever its tag used.
func (t Trail) ListRecord(ctx context.Context, db DBTX, table string, id int64) ([]Event, error) {
	return collect(func(f func(Event) error) error { return t.EachRecord(ctx, db, table, id, f) })
}

// EachRecord calls f for each event ListRecord would return, in the same order.
func (t Trail) EachRecord(ctx context.Context, db DBTX, table string, id int64, f func(Event) error) error {
	return t.each(ctx, db, "target_table = ANY($1) AND target_id = $2", []any{tableNames(table), id}, f)
}

// HasTable reports whether the trail holds any event of table (under either name, for a table of schema public).
func (t Trail) HasTable(ctx context.Context, db DBTX, table string) (bool, error) {
	var ok bool
	err := read(ctx, db, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM "+t.table()+" WHERE target_table = ANY($1))", tableNames(table)).Scan(&ok)
	})
	return ok, trailError(err)
}

// read runs f in a transaction (a savepoint, if db is one) with row_security off: a query that row-level
// security would filter fails (ErrRowSecurity) instead of silently missing rows. db must be able to begin one
// (pgx.Conn, pgxpool.Pool and pgx.Tx can); the setting ends with it.
func read(ctx context.Context, db DBTX, f func(pgx.Tx) error) error {
	b, ok := db.(interface {
		Begin(context.Context) (pgx.Tx, error)
	})
	if !ok {
		return fmt.Errorf("audit: a Trail reads through a connection that can begin a transaction (pgx.Conn, pgxpool.Pool or pgx.Tx), to read with row_security off; %T cannot", db)
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return err
	}
	// Rolled back, never committed: a savepoint released would leave the setting on in the caller's transaction.
	defer tx.Rollback(ctx) //nolint:errcheck // nothing was written
	if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
		return err
	}
	return f(tx)
}

// tableNames are the names audit rows may give table: the table tag's spelling, so a table of schema public is
// billings (`table:"billings"`) or public.billings (`table:"public.billings"`); another schema's is qualified.
func tableNames(table string) []string {
	if name, ok := strings.CutPrefix(table, "public."); ok {
		return []string{table, name}
	}
	if !strings.Contains(table, ".") {
		return []string{table, "public." + table}
	}
	return []string{table}
}

func collect(each func(func(Event) error) error) ([]Event, error) {
	var out []Event
	err := each(func(e Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t Trail) each(ctx context.Context, db DBTX, where string, args []any, f func(Event) error) error {
	var stop error // f's error, returned as it is
	err := read(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+trailColumns+" FROM "+t.table()+" WHERE "+where+" ORDER BY id", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				stop = err
				return err
			}
			if err := f(e); err != nil {
				stop = err
				return err
			}
		}
		return rows.Err()
	})
	if stop != nil {
		return stop
	}
	return trailError(err)
}

func scanEvent(rows pgx.Rows) (Event, error) {
	var (
		e                          Event
		xid                        string
		clientAddr, ip             *string
		userAgent, request, method *string
		changes                    []byte
	)
	err := rows.Scan(&e.ID, &e.OccurredAt, &xid, &e.DBRole, &clientAddr, &e.Application, &e.ActorKind, &e.ActorID,
		&ip, &userAgent, &request, &method, &e.Action, &e.Table, &e.RecordID, &e.PatientID, &e.PriorPatientID, &changes)
	if err != nil {
		return Event{}, fmt.Errorf("audit: reading the trail: %w", err)
	}
	if e.TransactionID, err = strconv.ParseUint(xid, 10, 64); err != nil {
		return Event{}, fmt.Errorf("audit: event %d: transaction id %q: %w", e.ID, xid, err)
	}
	if e.ClientAddr, err = nullAddr(clientAddr); err != nil {
		return Event{}, fmt.Errorf("audit: event %d: client_addr: %w", e.ID, err)
	}
	if e.IP, err = nullAddr(ip); err != nil {
		return Event{}, fmt.Errorf("audit: event %d: ip: %w", e.ID, err)
	}
	e.UserAgent, e.RequestID, e.Method = deref(userAgent), deref(request), deref(method)
	e.Changes = json.RawMessage(changes)
	if err := decodeChanges(&e, changes); err != nil {
		return Event{}, fmt.Errorf("audit: event %d: changes: %w", e.ID, err)
	}
	return e, nil
}

// decodeChanges sets the event's images and changed fields from its changes column. Each member is decoded on its
// own, into a fresh map: decoded into a struct's map field, a key given twice (which a jsonb never holds, but a
// json column would) would merge both objects into one that neither is. The last of them counts, as in jsonb.
//
// Any depth PostgreSQL stored is read: a text too deep for encoding/json (10,000 levels, the changes column's own
// two included) is split into its members without it (jsontree), and an image's value still too deep to decode
// is kept as its JSON text, compacted (a json.RawMessage), rather than lose the event.
func decodeChanges(e *Event, changes []byte) error {
	var c struct {
		Before        json.RawMessage `json:"before"`
		After         json.RawMessage `json:"after"`
		Deleted       json.RawMessage `json:"deleted_record"`
		ChangedFields json.RawMessage `json:"changed_fields"`
	}
	if err := decodeJSON(changes, &c); err != nil {
		m, deepErr := deepMembers(changes)
		if deepErr != nil {
			return err
		}
		c.Before, c.After, c.Deleted, c.ChangedFields = m["before"], m["after"], m["deleted_record"], m["changed_fields"]
	}
	var deleted map[string]any
	for _, m := range []struct {
		raw json.RawMessage
		to  *map[string]any
	}{{c.Before, &e.Before}, {c.After, &e.After}, {c.Deleted, &deleted}} {
		if m.raw == nil {
			continue
		}
		if err := decodeJSON(m.raw, m.to); err != nil {
			members, deepErr := deepMembers(m.raw)
			if deepErr != nil {
				return err
			}
			img := make(map[string]any, len(members))
			for k, raw := range members {
				var v any
				if decodeJSON(raw, &v) != nil { // valid (jsontree parsed it): too deep
					v = json.RawMessage(jsontree.Compact(raw))
				}
				img[k] = v
			}
			*m.to = img
		}
	}
	if c.ChangedFields != nil {
		if err := decodeJSON(c.ChangedFields, &e.ChangedFields); err != nil {
			return err
		}
	}
	if e.Before == nil {
		e.Before = deleted
	}
	return nil
}

// deepMembers splits a JSON object of any depth into its members' values (their text), the last of a key given
// twice counting, as in a decoded map. A text that is not JSON or not an object is an error; null is no members.
func deepMembers(text []byte) (map[string]json.RawMessage, error) {
	nodes, err := jsontree.Parse(text)
	if err != nil {
		return nil, err
	}
	switch nodes[0].Kind {
	case jsontree.Null:
		return nil, nil
	case jsontree.Object:
	default:
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage, nodes[0].Len)
	for i := nodes[0].First; i >= 0; i = nodes[i].Next {
		n := nodes[i]
		k, err := jsontree.Unquote(text[n.Key:n.KeyEnd])
		if err != nil {
			return nil, err
		}
		m[k] = json.RawMessage(text[n.Start:n.End])
	}
	return m, nil
}

// decodeJSON decodes text into v, numbers as json.Number.
func decodeJSON(text []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	return d.Decode(v)
}

func nullAddr(s *string) (netip.Addr, error) {
	if s == nil {
		return netip.Addr{}, nil
	}
	return netip.ParseAddr(*s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// trailError makes a permission error match ErrNoTrailAccess, keeping the *pgconn.PgError reachable.
func trailError(err error) error {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	switch {
	case ok && pgErr.Code == "42501" && strings.Contains(pgErr.Message, "row-level security"):
		return fmt.Errorf("%w: %w", ErrRowSecurity, err)
	case ok && pgErr.Code == "42501":
		return fmt.Errorf("%w: %w", ErrNoTrailAccess, err)
	}
	return err
}
