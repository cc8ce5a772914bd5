package seal

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// textSettings pin every setting that changes a value's text, so a row reads the same in every session.
const textSettings = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres';
SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'`

// timeLayout is how a leaf writes timestamptz values: UTC, always six fractional digits; a BC value is followed
// by " BC".
const timeLayout = "2006-01-02T15:04:05.000000Z"

// table is the audit table's columns as the catalog lists them now, in attnum order, with the SQL that reads each
// as canonical text.
type table struct {
	name  string // qualified, quoted
	cols  []string
	exprs []string
	json  []bool // the column's text is canonicalized as JSON
	index map[string]int
	// The columns that order the leaves and key them to seal_leaf.
	xidCol, idCol, timeCol int
}

func readTable(ctx context.Context, tx pgx.Tx, qualified string) (*table, error) {
	if err := checkTable(ctx, tx, qualified); err != nil {
		return nil, err
	}
	// Each column is read as its type's output function writes it, called by name: never through a cast, which a
	// superuser could create (bigint to text has none, so CREATE CAST can add one) to show Verify another value
	// than the reviewers read. (A column of text type, as every expression here is, reads the same in text and in
	// binary format.)
	rows, err := tx.Query(ctx, `
		SELECT a.attname, pg_catalog.format_type(a.atttypid, NULL), n.nspname, p.proname FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_proc p ON p.oid = t.typoutput
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, qualified)
	if err != nil {
		return nil, fmt.Errorf("seal: reading the columns of %s: %w", qualified, err)
	}
	t := &table{name: qualified, index: map[string]int{}}
	var name, typ, outSchema, out string
	_, err = pgx.ForEachRow(rows, []any{&name, &typ, &outSchema, &out}, func() error {
		c := "a." + pgx.Identifier{name}.Sanitize()
		var expr string
		switch typ {
		case "timestamp with time zone", "timestamp without time zone":
			layout := `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`
			if typ == "timestamp without time zone" {
				layout = `'YYYY-MM-DD"T"HH24:MI:SS.US'`
			}
			// to_char gives NULL for infinity, which must not read as NULL: it reads as the output function writes
			// it (and as %[1]s::text did), infinity or -infinity. YYYY is the year without its era, so a BC value
			// says so after it (" BC", as PostgreSQL writes it); an AD value reads as it always has.
			expr = fmt.Sprintf(`CASE WHEN NOT isfinite(%[1]s) THEN CASE WHEN %[1]s > 'epoch' THEN 'infinity' ELSE '-infinity' END
				WHEN to_char(%[1]s, 'BC') = 'BC' THEN to_char(%[1]s, %[2]s) || ' BC' ELSE to_char(%[1]s, %[2]s) END`, c, layout)
		case "inet", "cidr":
			// As the rows were always read (col::text): the built-in cast's function, which always writes the
			// netmask; called by name, so no cast can stand in for it.
			expr = "pg_catalog.text(" + c + ")"
		default:
			expr = "pg_catalog.textin(" + pgx.Identifier{outSchema, out}.Sanitize() + "(" + c + "))"
		}
		t.index[name] = len(t.cols)
		t.cols = append(t.cols, name)
		t.exprs = append(t.exprs, expr)
		t.json = append(t.json, typ == "json" || typ == "jsonb")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seal: reading the columns of %s: %w", qualified, err)
	}
	var ok bool
	for _, k := range []struct {
		name string
		to   *int
	}{{"transaction_id", &t.xidCol}, {"id", &t.idCol}, {"occurred_at", &t.timeCol}} {
		if *k.to, ok = t.index[k.name]; !ok {
			return nil, fmt.Errorf("seal: %s has no column %s", qualified, k.name)
		}
	}
	return t, nil
}

// selectList reads the columns of the table aliased a: ORDER BY must name a.id, since a bare id is the text
// output column.
func (t *table) selectList() string { return strings.Join(t.exprs, ", ") }

// Key orders the leaves: transactions in transaction_id order (each sealed once every smaller one has ended),
// rows in id order within one.
type Key struct {
	XID uint64 // transaction_id
	ID  int64  // id
}

func (k Key) less(o Key) bool { return k.XID < o.XID || (k.XID == o.XID && k.ID < o.ID) }

// row is one audit row read as canonical text, NULL as nil, its row hash and its leaf hash.
type row struct {
	Key
	occurredAt time.Time
	vals       [][]byte
	rowHash    []byte
	hash       []byte
	hashErr    error // the row cannot be encoded with the sealed columns
	jsonErr    error // a JSON column's text cannot be canonicalized (a key given twice): the row cannot be hashed
}

// readHashed reads up to max rows (fewer: the query is done; the caller checks rows.Err), then canonicalizes
// and hashes them on every core, which is most of the CPU time of sealing and verifying. Each row is hashed with
// the columns colsFor gives for its transaction_id, or not at all for nil.
func (t *table) readHashed(rows pgx.Rows, max int, colsFor func(xid uint64) []string) ([]row, error) {
	var raw [][][]byte
	for len(raw) < max && rows.Next() {
		vals := rows.RawValues()
		r := make([][]byte, len(vals))
		for i, v := range vals {
			if v != nil {
				r[i] = append([]byte{}, v...) // pgx reuses its buffers
			}
		}
		raw = append(raw, r)
	}
	out := make([]row, len(raw))
	errs := make([]error, len(raw))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raw); i += workers {
				out[i], errs[i] = t.parse(raw[i])
				if cols := colsFor(out[i].XID); errs[i] == nil && cols != nil {
					if out[i].jsonErr != nil {
						out[i].hashErr = out[i].jsonErr
					} else if out[i].rowHash, out[i].hashErr = t.rowHash(out[i], cols); out[i].hashErr == nil {
						out[i].hash = LeafHash(out[i].Key, out[i].occurredAt, out[i].rowHash)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parse reads a row's key columns and canonicalizes its JSON; a JSON text that cannot be is the row's jsonErr,
// which a sealed row reads as edited.
func (t *table) parse(vals [][]byte) (row, error) {
	r := row{vals: vals}
	for i, v := range vals {
		// Once one JSON column fails, the row cannot be hashed: its others need no canonical form.
		if v != nil && t.json[i] && r.jsonErr == nil {
			c, err := CanonicalJSON(v)
			if err != nil {
				r.jsonErr = fmt.Errorf("column %s: %w", t.cols[i], err)
				continue
			}
			vals[i] = c
		}
	}
	var err error
	if r.XID, err = strconv.ParseUint(string(r.vals[t.xidCol]), 10, 64); err != nil {
		return r, fmt.Errorf("seal: transaction_id %q: %w", r.vals[t.xidCol], err)
	}
	if r.ID, err = strconv.ParseInt(string(r.vals[t.idCol]), 10, 64); err != nil {
		return r, fmt.Errorf("seal: id %q: %w", r.vals[t.idCol], err)
	}
	if r.occurredAt, err = parseTime(string(r.vals[t.timeCol])); err != nil {
		return r, fmt.Errorf("seal: row %d: occurred_at %q: %w", r.ID, r.vals[t.timeCol], err)
	}
	return r, nil
}

// parseTime reads a timestamptz as readTable writes it: timeLayout, followed by " BC" for a year before 1 AD,
// which Go counts from 0 (1 BC is year 0, 2 BC year -1).
func parseTime(s string) (time.Time, error) {
	ad, bc := strings.CutSuffix(s, " BC")
	if !bc {
		return time.Parse(timeLayout, ad)
	}
	// The rest is parsed in a leap year, as the BC year may be one (1 BC is) when its number AD is not.
	y, rest, _ := strings.Cut(ad, "-")
	year, err := strconv.Atoi(y)
	if err != nil || year < 1 {
		return time.Time{}, fmt.Errorf("year %q BC", y)
	}
	t, err := time.Parse(timeLayout, "2000-"+rest)
	if err != nil {
		return t, err
	}
	return time.Date(1-year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
}

// rowHash is the RowHash of r encoded with the columns cols (the table's when it was sealed); a column that no
// longer exists cannot be encoded.
func (t *table) rowHash(r row, cols []string) ([]byte, error) {
	fields := make([]Field, len(cols))
	for i, c := range cols {
		j, ok := t.index[c]
		if !ok {
			return nil, fmt.Errorf("column %s, sealed in row %d, no longer exists", c, r.ID)
		}
		fields[i] = Field{Name: c, Value: r.vals[j]}
	}
	return RowHash(fields), nil
}
