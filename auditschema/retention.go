package auditschema

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// MinRetentionYears is the shortest retention floor: HIPAA requires its documentation, audit records included,
// be kept six years (45 CFR 164.316(b)(2)(i)). The database refuses a shorter floor too.
const MinRetentionYears = 6

// ErrFloorTooShort is matched (errors.Is) by the error Retain returns for a floor under MinRetentionYears.
var ErrFloorTooShort = errors.New("auditschema: retention floor below 6 years: HIPAA requires audit records be kept at least 6 years")

// ErrRetentionDenied is matched (errors.Is) by the error of Retain, HoldPatient, HoldPeriod and Release when the
// connecting role may not run them (SQLSTATE 42501): only members of the owner role, and superusers, may. That
// error's text names the Config's owner role; the *pgconn.PgError stays reachable with errors.As.
var ErrRetentionDenied = errors.New("auditschema: permission denied: retention and legal holds need a member of the owner role")

// ErrInvalidHold is matched (errors.Is) by the error of HoldPatient and HoldPeriod for a hold the database
// refuses as given: no reason, a period with neither end or whose start is not before its end (SQLSTATE 22023,
// reachable with errors.As).
var ErrInvalidHold = errors.New("auditschema: invalid legal hold")

// DB is what the retention functions need of a connection: pgx.Conn, pgxpool.Pool and pgx.Tx have it.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RetentionReport is what Retain did, or with DryRun would do.
type RetentionReport struct {
	DryRun bool
	// Partitions lists, in order: the partitions created (ahead, and for the months of rows in the default
	// partition, which are moved into them), every partition old enough to drop (dropped or kept under a legal
	// hold), and the default partition when it holds rows.
	Partitions []PartitionAction
}

// PartitionAction is what retention did with one partition.
type PartitionAction struct {
	// Action is created (or would_create; Rows are those of its month in the default partition, moved into it),
	// dropped (or would_drop), kept (under a legal hold, named in Detail), or default (the default partition's
	// rows, which are never dropped; From and To are their oldest and newest times, zero when infinite: after a run
	// that is not a dry run, only rows no monthly partition holds, of an infinite time or a year before 1 AD or after
	// 9999).
	Action    string
	Partition string
	From, To  time.Time
	Rows      int64
	MinID     *int64
	MaxID     *int64
	Detail    string
}

// Retain applies retention with a floor of years (at least MinRetentionYears): it creates the coming months'
// partitions, then drops every monthly partition entirely older than the floor that no active legal hold
// covers, recording each drop in the audit schema's retention_log. With dryRun it changes nothing and reports
// what it would do. The connecting role must be a member of the owner role. Inside a REPEATABLE READ or
// SERIALIZABLE transaction the database refuses it (SQLSTATE 0A000): its snapshot would miss audit rows and legal
// holds committed since.
func Retain(ctx context.Context, db DB, c Config, years int, dryRun bool) (*RetentionReport, error) {
	if years < MinRetentionYears {
		return nil, fmt.Errorf("%w (got %d)", ErrFloorTooShort, years)
	}
	c = c.WithDefaults()
	rows, err := db.Query(ctx, "SELECT action, partition_name, range_from, range_to, n_rows, min_id, max_id, detail FROM "+
		pgx.Identifier{c.Schema, "retain"}.Sanitize()+"(make_interval(years => $1), $2)", years, dryRun)
	if err != nil {
		return nil, retentionError(c, err)
	}
	rep := &RetentionReport{DryRun: dryRun}
	for rows.Next() {
		var p PartitionAction
		var detail *string
		var from, to pgtype.Timestamptz
		if err := rows.Scan(&p.Action, &p.Partition, &from, &to, &p.Rows, &p.MinID, &p.MaxID, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		p.From, p.To = finite(from), finite(to)
		if detail != nil {
			p.Detail = *detail
		}
		rep.Partitions = append(rep.Partitions, p)
	}
	if err := rows.Err(); err != nil {
		return nil, retentionError(c, err)
	}
	return rep, nil
}

// finite is t's time, or the zero time when t is NULL or infinite (a default partition's row may be).
func finite(t pgtype.Timestamptz) time.Time {
	if !t.Valid || t.InfinityModifier != pgtype.Finite {
		return time.Time{}
	}
	return t.Time
}

// HoldPatient places a legal hold on a patient's audit rows (as patient or prior patient) and returns its id:
// no partition holding one is dropped until the hold is released.
func HoldPatient(ctx context.Context, db DB, c Config, patientID int64, reason string) (int64, error) {
	return hold(ctx, db, c, &patientID, nil, nil, reason)
}

// HoldPeriod places a legal hold on the period [from, to) (a zero time leaves that end open) and returns its
// id: no partition overlapping it is dropped until the hold is released.
func HoldPeriod(ctx context.Context, db DB, c Config, from, to time.Time, reason string) (int64, error) {
	if from.IsZero() && to.IsZero() {
		return 0, fmt.Errorf("%w: a period hold needs a start or an end", ErrInvalidHold)
	}
	return hold(ctx, db, c, nil, optTime(from), optTime(to), reason)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func hold(ctx context.Context, db DB, c Config, patient *int64, from, to *time.Time, reason string) (int64, error) {
	c = c.WithDefaults()
	var id int64
	err := db.QueryRow(ctx, "SELECT "+pgx.Identifier{c.Schema, "hold"}.Sanitize()+"($1, $2, $3, $4)", patient, from, to, reason).Scan(&id)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "22023" {
		return 0, fmt.Errorf("%w: %w", ErrInvalidHold, err)
	}
	return id, retentionError(c, err)
}

// Release ends a legal hold, recording why (reason must not be blank: a server error 22023 otherwise); it reports
// whether the hold was active.
func Release(ctx context.Context, db DB, c Config, holdID int64, reason string) (bool, error) {
	c = c.WithDefaults()
	var ok bool
	err := db.QueryRow(ctx, "SELECT "+pgx.Identifier{c.Schema, "release"}.Sanitize()+"($1, $2)", holdID, reason).Scan(&ok)
	return ok, retentionError(c, err)
}

// retentionError makes a permission error match ErrRetentionDenied and name c's owner role, keeping the
// *pgconn.PgError reachable.
func retentionError(c Config, err error) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42501" {
		return fmt.Errorf("%w %s, such as the migrating user: %w", ErrRetentionDenied, c.Owner, err)
	}
	return err
}
