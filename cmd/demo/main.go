// Command demo walks through a short visit at the dental clinic using the generated audited repositories,
// prints the patient's audit trail, and shows what the application's database role may not do. It needs a
// migrated database at $DATABASE_URL (make demo provides one) and can run any number of times against the
// same database: every run creates its own users.
//
// It connects as the application role the migrations create, auditrepo_app, never as the migrating user:
// $APP_DATABASE_URL if set, else $DATABASE_URL with its user replaced by auditrepo_app and no password
// (which works where the server trusts local connections, as make demo's throwaway cluster does).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/migrations"
	"github.com/auditrepo/auditrepo/seal"
)

func main() {
	if err := connectAndRun(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func connectAndRun(ctx context.Context, out io.Writer) error {
	cfg, err := appConfig(os.Getenv("APP_DATABASE_URL"), os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect as %s (set APP_DATABASE_URL to the application role's connection string): %w", cfg.ConnConfig.User, err)
	}
	reviewer, err := poolAs(ctx, pool, migrations.Audit.Reviewer)
	if err != nil {
		return err
	}
	defer reviewer.Close()
	return run(ctx, out, pool, reviewer)
}

// run plays the scenario on pool, which should be connected as the application role; reviewer reads the trail.
func run(ctx context.Context, out io.Writer, pool, reviewer *pgxpool.Pool) error {
	repos, q := repo.New(pool), db.New(pool)
	stamp := time.Now().Format("20060102-150405.000000") // makes usernames unique per run

	// Registration is a back-office job: it acts as a named system process.
	sys := audit.WithSystem(ctx, "clinic-demo")
	dentist, err := repos.User.Create(sys, db.CreateUserParams{Username: "dr.hale-" + stamp, Email: "hale@clinic.example",
		Password: "$2a$10$not-a-real-hash", UserType: "staff", Role: "dentist", FirstName: "Ada", LastName: "Hale"})
	if err != nil {
		return fmt.Errorf("create dentist: %w", err)
	}
	patient, err := repos.User.Create(sys, db.CreateUserParams{Username: "jane.doe-" + stamp, Email: "jane@mail.example",
		Password: "$2a$10$not-a-real-hash", UserType: "patient", FirstName: "Jane", LastName: "Doe"})
	if err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	// Clinic locations hold no PHI: plain sqlc, no audit row.
	clinic, err := q.CreateClinicLocation(ctx, db.CreateClinicLocationParams{Name: "Downtown", Address: "1 Main St"})
	if err != nil {
		return fmt.Errorf("create clinic: %w", err)
	}

	// The dentist works from the front desk; the patient from the clinic's app.
	staff := audit.WithActor(ctx, audit.Actor{UserID: dentist.ID, Kind: audit.KindUser,
		IP: netip.MustParseAddr("192.0.2.10"), UserAgent: "Mozilla/5.0 (front desk)", RequestID: "demo-" + stamp})
	self := audit.WithActor(ctx, audit.Actor{UserID: patient.ID, Kind: audit.KindUser,
		IP: netip.MustParseAddr("2001:db8::7"), UserAgent: "ClinicApp/2.1 (iOS)"})

	visit, err := repos.Appointment.Create(staff, db.CreateAppointmentParams{PatientID: patient.ID, DentistID: dentist.ID,
		ClinicID: pgtype.Int8{Int64: clinic.ID, Valid: true}, Date: day(7), Time: clock(9, 30), Type: "checkup",
		Status: "scheduled", Notes: "sensitive lower left molar"})
	if err != nil {
		return fmt.Errorf("book appointment: %w", err)
	}
	for _, s := range []string{"confirmed", "completed"} {
		if visit, err = repos.Appointment.UpdateStatus(staff, db.UpdateAppointmentStatusParams{ID: visit.ID, Status: s}); err != nil {
			return fmt.Errorf("appointment %s: %w", s, err)
		}
	}
	form, err := repos.PatientIntakeForm.Create(self, db.CreatePatientIntakeFormParams{PatientID: patient.ID,
		Allergies: "penicillin", Medications: "none", EmergencyContact: "John Doe", EmergencyPhone: "+1 555 0100",
		InsuranceProvider: "Acme Dental", InsurancePolicy: "AD-123-456", SignedAt: pgtype.Timestamptz{Time: time.Now(), Valid: true}})
	if err != nil {
		return fmt.Errorf("intake form: %w", err)
	}
	form.Medications, form.InsurancePolicy = "ibuprofen", "AD-999-000"
	if _, err := repos.PatientIntakeForm.Update(self, db.UpdatePatientIntakeFormParams{ID: form.ID, Allergies: form.Allergies,
		Medications: form.Medications, MedicalConditions: form.MedicalConditions, EmergencyContact: form.EmergencyContact,
		EmergencyPhone: form.EmergencyPhone, InsuranceProvider: form.InsuranceProvider, InsurancePolicy: form.InsurancePolicy,
		Smoker: form.Smoker, Pregnant: form.Pregnant, SignedAt: form.SignedAt}); err != nil {
		return fmt.Errorf("update intake form: %w", err)
	}
	record, err := repos.DentalRecord.Create(staff, db.CreateDentalRecordParams{PatientID: patient.ID, DentistID: dentist.ID,
		Diagnosis: "caries on 36", Treatment: "filling", Notes: "composite, shade A2"})
	if err != nil {
		return fmt.Errorf("dental record: %w", err)
	}
	if _, err := repos.DentalRecord.Update(staff, db.UpdateDentalRecordParams{ID: record.ID, PatientID: record.PatientID,
		DentistID: record.DentistID, Diagnosis: record.Diagnosis, Treatment: "filling + fluoride", Notes: record.Notes}); err != nil {
		return fmt.Errorf("update dental record: %w", err)
	}
	if _, err := repos.Billing.Create(staff, db.CreateBillingParams{PatientID: patient.ID, Amount: money("180.00"),
		Status: "pending", Description: "checkup and filling"}); err != nil {
		return fmt.Errorf("billing: %w", err)
	}
	if _, err := repos.Invoice.Create(staff, db.CreateInvoiceParams{AppointmentID: visit.ID, Amount: money("180.00"),
		Status: "open", DueDate: day(37)}); err != nil {
		return fmt.Errorf("invoice: %w", err)
	}
	// A follow-up booked by mistake: cancelled, then removed.
	extra, err := repos.Appointment.Create(staff, db.CreateAppointmentParams{PatientID: patient.ID, DentistID: dentist.ID,
		Date: day(14), Time: clock(14, 0), Type: "follow-up", Status: "scheduled"})
	if err != nil {
		return fmt.Errorf("book follow-up: %w", err)
	}
	if _, err := repos.Appointment.UpdateStatus(staff, db.UpdateAppointmentStatusParams{ID: extra.ID, Status: "cancelled"}); err != nil {
		return fmt.Errorf("cancel follow-up: %w", err)
	}
	if err := repos.Appointment.Delete(staff, extra.ID); err != nil {
		return fmt.Errorf("delete follow-up: %w", err)
	}

	// A change made around the repositories, as a hand-run fix would be: the audit trigger still records it, as
	// unattributed, with the database role and client address the server saw.
	if _, err := pool.Exec(ctx, "UPDATE dental_records SET treatment = 'filling + sealant' WHERE id = $1", record.ID); err != nil {
		return fmt.Errorf("raw update: %w", err)
	}
	// A forged claim, set by hand for the session as someone with the application's password could, in claim()'s
	// form but for another statement's start: it does not belong to the statement that writes, so the change is
	// recorded as unattributed, with its true values.
	forged := `SELECT set_config('auditrepo.claim', '("2000-01-01 00:00:00","dental_records","Forged",user,1,,,)', false)`
	if _, err := pool.Exec(ctx, forged); err != nil {
		return fmt.Errorf("forging a claim: %w", err)
	}
	if _, err := pool.Exec(ctx, "UPDATE dental_records SET notes = 'composite, shade A3' WHERE id = $1", record.ID); err != nil {
		return fmt.Errorf("update under a forged claim: %w", err)
	}

	trail, err := audit.Trail{Table: migrations.Audit.QualifiedTable()}.ListPatient(ctx, reviewer, patient.ID, time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("read the audit trail as %s: %w", reviewer.Config().ConnConfig.User, err)
	}
	fmt.Fprintf(out, "Audit trail of patient #%d (%s), dentist #%d, read as %s:\n\n", patient.ID, patient.Username, dentist.ID,
		reviewer.Config().ConnConfig.User)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tACTOR\tKIND\tIP\tACTION\tRECORD\tCHANGES")
	for _, e := range trail {
		actor, ip := e.UserAgent, "-" // a system actor's name is its user agent
		switch {
		case e.ActorID != nil:
			actor = fmt.Sprintf("user #%d", *e.ActorID)
		case e.ActorKind == audit.KindUnattributed:
			actor = "db role " + e.DBRole
		}
		if e.IP.IsValid() {
			ip = e.IP.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s #%d\t%s\n", e.ID, e.OccurredAt.UTC().Format("2006-01-02 15:04:05 MST"),
			actor, e.ActorKind, ip, e.Action, e.Table, e.RecordID, summarize(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nunattributed: changed without a repository's claim (raw SQL, another program, a forged claim); the\n"+
		"database recorded the true values and its own facts (role, client address) in place of an actor.\n"+
		"Left out of every image (excluded): %s; a change to them is recorded by name only.\n", excludedColumns())
	if err := refusals(ctx, out, pool, patient.ID); err != nil {
		return err
	}
	return sealAndVerify(ctx, out, reviewer)
}

// poolAs opens a pool on the server and database of p, as role (no password: the demo's server trusts its
// roles, as the throwaway cluster of make demo does).
func poolAs(ctx context.Context, p *pgxpool.Pool, role string) (*pgxpool.Pool, error) {
	cfg := p.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = role, ""
	return pgxpool.NewWithConfig(ctx, cfg)
}

// sealAndVerify seals the trail with the demo's key, as a periodic job would (as the sealer role), and verifies
// it as the reviewer: the checkpoint goes to the database and to a directory outside it. Every run uses the same
// key, so a run on a database that earlier runs sealed extends their checkpoints (a key of its own would find them
// signed by another and be refused).
func sealAndVerify(ctx context.Context, out io.Writer, reviewer *pgxpool.Pool) error {
	key, err := seal.KeyFrom(demoPrivateKey, demoPublicKey)
	if err != nil {
		return err
	}
	sealer, err := poolAs(ctx, reviewer, migrations.Audit.Sealer)
	if err != nil {
		return err
	}
	defer sealer.Close()
	dir, err := os.MkdirTemp("", "auditrepo-checkpoints-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := seal.Options{Config: migrations.Audit, Witnesses: []seal.Witness{seal.Dir(dir)}}
	// Rows become final once no transaction of the server that could commit before them is still running:
	// on a busy server, wait a little for them.
	var cp *seal.Checkpoint
	for wait := time.Now().Add(20 * time.Second); cp == nil && time.Now().Before(wait); time.Sleep(200 * time.Millisecond) {
		if cp, err = seal.Seal(ctx, sealer, key.Signer, opts); errors.Is(err, seal.ErrOtherKey) {
			return fmt.Errorf("sealing the trail: %w (not the demo's key: run the demo on a database only it seals)", err)
		} else if err != nil {
			return fmt.Errorf("sealing the trail: %w", err)
		}
	}
	rep, err := seal.Verify(ctx, reviewer, []note.Verifier{key.Verifier}, opts)
	if err != nil {
		return fmt.Errorf("verifying the trail: %w", err)
	}
	fmt.Fprintf(out, "\nSealed and verified: %d rows in %d checkpoint(s), signed by %s (%d rows not final yet).\n"+
		"The demo's key is fixed and its private half is in cmd/demo, so anyone can sign with it: a deployment makes its\n"+
		"own with auditrepo keygen and keeps the private key out of the database.\n",
		rep.Rows, rep.Checkpoints, key.Public, rep.Unsealed)
	if cp == nil {
		fmt.Fprintln(out, "(no row became final within 20 s: a long transaction elsewhere on the server holds them back)")
	}
	return nil
}

// The demo's seal key, the same in every run and public here: it shows how sealing works and protects nothing
// (made once with note.GenerateKey).
const (
	demoPrivateKey = "PRIVATE+KEY+clinic-demo-trail+18486721+ATogKg+Fyihm8p7X+arluvaAgega0374nTz3OZzlgpfC"
	demoPublicKey  = "clinic-demo-trail+18486721+AfDl5nu2j0I2sKYifcMiEoNcUDCPkuTWT/G7sLO7yqA3"
)

// excludedColumns lists the models' excluded columns as table.column.
func excludedColumns() string {
	var cols []string
	for _, t := range slices.Sorted(maps.Keys(repo.Excluded)) {
		for _, c := range repo.Excluded[t] {
			cols = append(cols, t+"."+c)
		}
	}
	return strings.Join(cols, ", ")
}

// appConfig is the pool configuration of the application role: app if set, else admin's with the user
// replaced by auditrepo_app and the password dropped.
func appConfig(app, admin string) (*pgxpool.Config, error) {
	if app != "" {
		return pgxpool.ParseConfig(app)
	}
	if admin == "" {
		return nil, errors.New("DATABASE_URL is not set (make demo starts a throwaway server)")
	}
	cfg, err := pgxpool.ParseConfig(admin)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.User, cfg.ConnConfig.Password = migrations.Audit.App, ""
	return cfg, nil
}

// refusals tries what the trail's integrity depends on the application role not being able to do, and fails
// if any of it succeeds.
func refusals(ctx context.Context, out io.Writer, pool *pgxpool.Pool, patient int64) error {
	fmt.Fprintf(out, "\nWhat the application role (%s) may not do:\n\n", pool.Config().ConnConfig.User)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, try := range []struct {
		what, sql string
		args      []any
	}{
		{"read the patient's audit rows", "SELECT count(*) FROM auditrepo.audit_log WHERE patient_id = $1", []any{patient}},
		{"read them through the reviewers' reader", "", nil},
		{"write a fabricated audit row", "INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, changes) VALUES ('user', 'UPDATE', 'appointments', 1, '{}')", nil},
		{"rewrite the patient's audit rows", "UPDATE auditrepo.audit_log SET actor_id = NULL WHERE patient_id = $1", []any{patient}},
		{"delete the patient's audit rows", "DELETE FROM auditrepo.audit_log WHERE patient_id = $1", []any{patient}},
		{"empty a PHI table without a trail", "TRUNCATE appointments", nil},
		{"switch off an audit trigger", "ALTER TABLE appointments DISABLE TRIGGER audit_update", nil},
	} {
		var err error
		if try.sql == "" {
			_, err = audit.Trail{Table: migrations.Audit.QualifiedTable()}.ListPatient(ctx, pool, patient, time.Time{}, time.Time{})
		} else {
			_, err = pool.Exec(ctx, try.sql, try.args...)
		}
		if err == nil {
			return fmt.Errorf("%s: the role could (%s), so the trail is not protected", try.what, try.sql)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return fmt.Errorf("%s: %w", try.what, err)
		}
		fmt.Fprintf(tw, "%s\trefused: %s\n", try.what, pgErr.Message)
	}
	return tw.Flush()
}

// summarize condenses an event's changes: an update's changed fields (with their values when short), or how many
// fields a created or deleted record carries and which of them are redacted.
func summarize(e audit.Event) string {
	if e.Action == audit.ActionUpdate {
		parts := make([]string, len(e.ChangedFields))
		for i, f := range e.ChangedFields {
			before, hasBefore := e.Before[f]
			after, hasAfter := e.After[f]
			switch b, a := fmt.Sprintf("%q", before), fmt.Sprintf("%q", after); {
			case !hasBefore && !hasAfter:
				parts[i] = f + " (excluded)"
			case after == audit.Redacted:
				parts[i] = f + " (redacted)"
			case len(b) <= 32 && len(a) <= 32:
				parts[i] = fmt.Sprintf("%s %s → %s", f, b, a)
			default:
				parts[i] = f
			}
		}
		return "changed: " + strings.Join(parts, ", ")
	}
	rec, verb := e.After, "new record"
	if e.Action == audit.ActionDelete {
		rec, verb = e.Before, "deleted record"
	}
	var hidden []string
	for f, v := range rec {
		if v == audit.Redacted {
			hidden = append(hidden, f)
		}
	}
	slices.Sort(hidden)
	s := fmt.Sprintf("%s, %d fields", verb, len(rec))
	if len(hidden) > 0 {
		s += ", redacted: " + strings.Join(hidden, ", ")
	}
	return s
}

func day(fromToday int) pgtype.Date {
	return pgtype.Date{Time: time.Now().AddDate(0, 0, fromToday), Valid: true}
}

func clock(hour, minute int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(hour*60+minute) * 60e6, Valid: true}
}

// money parses a constant amount; it panics on a malformed one, like regexp.MustCompile.
func money(amount string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(amount); err != nil {
		panic(err)
	}
	return n
}
