package redteam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// invoicePatient is the patient the invoice belongs to now, through its appointment, read as the superuser;
// 0 when it has no appointment.
func invoicePatient(t *testing.T, c *clinictest.Clinic, invoice int64) int64 {
	t.Helper()
	var p *int64
	if err := c.Super.QueryRow(context.Background(), `SELECT a.patient_id FROM public.invoices i
		LEFT JOIN public.appointments a ON a.id = i.appointment_id WHERE i.id = $1`, invoice).Scan(&p); err != nil {
		t.Fatal(err)
	}
	if p == nil {
		return 0
	}
	return *p
}

// filedUnder asserts that the invoice's newest audit row (CREATE, UPDATE or MOVE) names the patient it belongs
// to now: otherwise that patient's trail misses it, and the trail files it under another patient, or none.
func filedUnder(t *testing.T, c *clinictest.Clinic, invoice int64, attack string) {
	t.Helper()
	now := invoicePatient(t, c, invoice)
	rows := clinictest.Record(t, c.Reviewer, "invoices", invoice)
	if len(rows) == 0 {
		t.Fatalf("invoice %d has no audit row", invoice)
	}
	last := rows[len(rows)-1]
	if last.PatientID == nil || *last.PatientID != now {
		t.Errorf("FINDING: %s: invoice %d belongs to patient %d now, but its newest audit row (%s, id %d) names patient %v: patient %d's trail misses it",
			attack, invoice, now, last.Action, last.ID, deref(last.PatientID), now)
	}
}

// TestRedTeamOwnerWeakensPathKeys holds the owner's attacks on the foreign keys a patient path follows. Installing
// requires each to be ON DELETE RESTRICT ON UPDATE RESTRICT and not deferrable (model_problems), so that no
// statement can give a hop row's id to a row of another patient, and no dependent can be written before its hop
// row exists. After the install the owner (a login member of auditrepo_owner) may change the key with one ALTER
// TABLE: ddl_log records it, but relation_layout does not change, so neither invoices nor appointments is made
// stale, and the application's role then moves an invoice to another patient with no audit row of the invoice's.
// Secure outcome: the DDL is refused, or the audited tables whose paths follow the key refuse writes (55000)
// until the models are installed again (which refuses the weakened key); either way the invoice stays filed
// under the patient it belongs to.
func TestRedTeamOwnerWeakensPathKeys(t *testing.T) {
	ctx := context.Background()

	// ON UPDATE NO ACTION checks at the statement's end: a writing CTE re-keys the appointment away and inserts a
	// new appointment of Patient2 with its id. appointments' trigger pairs rows by id and sees two halves and a
	// CREATE, so it lists no invoice to MOVE; the invoice now belongs to Patient2, and neither trail says so.
	t.Run("no_action_key_hands_an_invoice_to_another_patient", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		_, err := c.Owner.Exec(ctx, `ALTER TABLE public.invoices DROP CONSTRAINT invoices_appointment_id_fkey,
			ADD CONSTRAINT invoices_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES public.appointments (id)`)
		if err != nil {
			return // refused: secure
		}
		_, err = c.App.Exec(ctx, `WITH u AS (UPDATE appointments SET id = DEFAULT WHERE id = $1 RETURNING *)
			INSERT INTO appointments (id, patient_id, dentist_id, clinic_id, date, time, type, status, notes)
			OVERRIDING SYSTEM VALUE SELECT $1, $2, dentist_id, clinic_id, date, time, type, status, notes FROM u`, c.Appt1, c.Patient2)
		if err != nil {
			if code := pgtest.SQLState(err); code != "55000" && code != "23503" {
				t.Errorf("the hand-off was refused with %v (SQLSTATE %s), want 55000 (stale) or 23503", err, code)
			}
			return
		}
		filedUnder(t, c, c.Invoice, "owner made invoices_appointment_id_fkey ON UPDATE NO ACTION; app re-keyed appointment "+fmt.Sprint(c.Appt1)+" and gave its id to a new appointment of patient 2")
	})

	// A deferred key lets the application write an invoice before the appointment it finds its patient through:
	// the trigger reads no appointment and files the CREATE under no patient; the appointment, inserted next in the
	// same transaction for Patient2, satisfies the key at COMMIT. Patient2's trail never has the invoice.
	t.Run("deferred_key_files_an_invoice_under_no_patient", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		_, err := c.Owner.Exec(ctx, `ALTER TABLE public.invoices ALTER CONSTRAINT invoices_appointment_id_fkey DEFERRABLE INITIALLY DEFERRED`)
		if err != nil {
			return // refused: secure
		}
		const future = 900777
		tx, err := c.App.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		var inv int64
		if err := tx.QueryRow(ctx, `INSERT INTO invoices (appointment_id, amount, status, due_date) VALUES ($1, 5, 'open', '2026-01-05') RETURNING id`,
			future).Scan(&inv); err != nil {
			if code := pgtest.SQLState(err); code != "55000" && code != "23503" {
				t.Errorf("the early invoice was refused with %v (SQLSTATE %s), want 55000 (stale) or 23503", err, code)
			}
			return
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appointments (id, patient_id, dentist_id, clinic_id, date, time, type)
			OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, '2026-01-05', '09:00', 'rt')`, future, c.Patient2, c.Dentist, c.ClinicID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			return // refused at COMMIT: secure
		}
		filedUnder(t, c, inv, "owner made invoices_appointment_id_fkey DEFERRABLE INITIALLY DEFERRED; app inserted the invoice before its appointment of patient 2")
	})
}

// TestRedTeamOwnerReplacesReadTable: invoices' trigger function reads public.appointments by name (an invoice's
// patient is its appointment's). The owner drops appointments (ddl_log records it, and audited_tables loses its
// row) and renames a copy of its own into the name, with the patients it likes, granting the writer role SELECT.
// The rename is accepted (the table has no foreign code) and invoices' trigger function is not made stale, as it
// is when the read table's columns change: it now reads a table no audit trigger covers, so every later change of
// an invoice's patient there (the application may write it) moves invoices with no audit row at all.
// Secure outcome: once the relation under a read name is no longer the one the models were installed for, the
// audited tables reading it refuse writes (55000) until the models are installed again.
func TestRedTeamOwnerReplacesReadTable(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	ctx := context.Background()
	for _, sql := range []string{
		"CREATE TABLE public.rt_appts (LIKE public.appointments INCLUDING ALL)",
		"INSERT INTO public.rt_appts OVERRIDING SYSTEM VALUE SELECT * FROM public.appointments",
		"DROP TABLE public.appointments CASCADE",
		"ALTER TABLE public.rt_appts RENAME TO appointments",
		"GRANT SELECT, UPDATE (id) ON public.appointments TO auditrepo_writer",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON public.appointments TO auditrepo_app",
	} {
		if _, err := c.Owner.Exec(ctx, sql); err != nil {
			return // refused: secure
		}
	}
	m := clinictest.MaxID(t, c.Reviewer)
	// The application moves appointment 1, and so its invoice, to Patient2: the table has no audit trigger.
	must(t, c.App, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
	_, err := c.App.Exec(ctx, "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
	if err == nil {
		t.Errorf("FINDING: invoices still accepts writes after the table its trigger function reads (public.appointments) was replaced by one no audit trigger covers; audit rows since: %v",
			clinictest.Since(t, c.Reviewer, m))
		filedUnder(t, c, c.Invoice, "after the replacement")
	} else if code := pgtest.SQLState(err); code != "55000" {
		t.Errorf("invoices' write refused with %v (SQLSTATE %s), want 55000 (stale)", err, code)
	}
}

// TestRedTeamOwnerDropsIdKey: installing requires id to be unique on its own (model_problems), as the audit
// triggers pair a row's old and new versions by id. After the install the owner drops dental_records' primary key
// (ddl_log records it; relation_layout is unchanged, so the table is not made stale), and the application's role
// inserts a record of Patient2 under Patient1's record's id. One UPDATE by that id then writes four audit rows, two
// of them pairing one patient's old row with the other's new one: moves between the patients that never happened,
// with Patient2's diagnosis as a "before" in Patient1's trail.
// Secure outcome: the DDL is refused, or the table refuses writes (55000) until the models are installed again
// (which refuses it without the key); no audit row describes a change that did not happen.
func TestRedTeamOwnerDropsIdKey(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	ctx := context.Background()
	if _, err := c.Owner.Exec(ctx, "ALTER TABLE public.dental_records DROP CONSTRAINT dental_records_pkey"); err != nil {
		return // refused: secure
	}
	_, err := c.App.Exec(ctx, `INSERT INTO dental_records (id, patient_id, dentist_id, diagnosis) OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, $3, 'rt-patient2-diagnosis')`, c.DentalRecord, c.Patient2, c.Dentist)
	if err != nil {
		if code := pgtest.SQLState(err); code != "55000" && code != "23505" {
			t.Errorf("the duplicate id was refused with %v (SQLSTATE %s), want 55000 (stale) or 23505", err, code)
		}
		return
	}
	m := clinictest.MaxID(t, c.Reviewer)
	if _, err := c.App.Exec(ctx, "UPDATE dental_records SET treatment = 'rt' WHERE id = $1", c.DentalRecord); err != nil {
		if code := pgtest.SQLState(err); code != "55000" {
			t.Errorf("the UPDATE was refused with %v (SQLSTATE %s), want 55000 (stale)", err, code)
		}
		return
	}
	for _, r := range clinictest.Since(t, c.Reviewer, m) {
		if r.PriorPatientID != nil {
			before, _ := r.Ch["before"].(map[string]any)
			t.Errorf("FINDING: audit row %d moves dental record %d from patient %v to %v, which no statement did (its before image is another row's: %v)",
				r.ID, r.TargetID, *r.PriorPatientID, deref(r.PatientID), before["diagnosis"])
		}
	}
}

// TestRedTeamOwnerKeysStayAsInstalled checks what the event trigger holds of the keys installing checked, as the owner
// changes them: a command leaving an audited table without its id key, or a patient path's step without exactly
// its RESTRICT key, is refused (0A000), naming the table and the fix; the same key replaced within one ALTER TABLE
// passes; a path's column dropped with its key, or a read table dropped, makes the tables relying on them stale
// (55000) rather than refuse, and installing again checks what took their place.
func TestRedTeamOwnerKeysStayAsInstalled(t *testing.T) {
	const refusedKey = "0A000 breaks what installing the models requires: "
	ctx := context.Background()

	t.Run("id_key", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		must(t, c.Owner, "ALTER TABLE public.dental_records DROP CONSTRAINT dental_records_pkey, ADD PRIMARY KEY (id)")
		try(t, c.Owner, refusedKey+"table public.dental_records has no unique index on id alone",
			"ALTER TABLE public.dental_records DROP CONSTRAINT dental_records_pkey")
		try(t, c.Owner, refusedKey+"table public.dental_records has no unique index on id alone",
			"ALTER TABLE public.dental_records ADD CONSTRAINT rt_id UNIQUE (id) DEFERRABLE, DROP CONSTRAINT dental_records_pkey")
		// A unique index on id alone, with id NOT NULL, is a key too: the primary key may go, the index then not.
		must(t, c.Owner, "CREATE UNIQUE INDEX rt_dental_records_id ON public.dental_records (id)")
		must(t, c.Owner, "ALTER TABLE public.dental_records DROP CONSTRAINT dental_records_pkey")
		try(t, c.Owner, refusedKey+"table public.dental_records has no unique index on id alone", "DROP INDEX public.rt_dental_records_id")
		// The table still writes true rows.
		m := clinictest.MaxID(t, c.Reviewer)
		must(t, c.App, "UPDATE dental_records SET treatment = 'rt' WHERE id = $1", c.DentalRecord)
		if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 1 || rows[0].TargetID != c.DentalRecord || rows[0].PriorPatientID != nil {
			t.Errorf("after the key changes, one UPDATE wrote %v, want one row of dental record %d", rows, c.DentalRecord)
		}
	})

	t.Run("path_keys", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		must(t, c.Owner, `ALTER TABLE public.invoices DROP CONSTRAINT invoices_appointment_id_fkey,
			ADD CONSTRAINT invoices_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES public.appointments (id) ON DELETE RESTRICT ON UPDATE RESTRICT`)
		const step = refusedKey + "column public.invoices.appointment_id, which the patient path follows"
		try(t, c.Owner, step, "ALTER TABLE public.invoices DROP CONSTRAINT invoices_appointment_id_fkey")
		try(t, c.Owner, step, "ALTER TABLE public.invoices ADD FOREIGN KEY (appointment_id) REFERENCES public.appointments (id)")
		// A command on the step's other table counts too.
		try(t, c.Owner, step, "ALTER TABLE public.appointments DROP CONSTRAINT appointments_pkey CASCADE, ADD PRIMARY KEY (id)")
		// The hint names the fix after the command.
		_, err := c.Owner.Exec(ctx, "ALTER TABLE public.invoices ALTER CONSTRAINT invoices_appointment_id_fkey DEFERRABLE")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Hint, `ALTER TABLE public.invoices DROP CONSTRAINT "invoices_appointment_id_fkey", ADD FOREIGN KEY ("appointment_id") REFERENCES public.appointments (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`) {
			t.Errorf("a deferrable path key: %v, want it refused with a hint naming the fix", err)
		}
	})

	// Dropping a path's column drops its key: the table's columns changed, so it is stale until installed again
	// (whose checks refuse the model's path without the column), not refused.
	t.Run("path_column_dropped", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		must(t, c.Owner, "ALTER TABLE public.invoices DROP COLUMN appointment_id")
		try(t, c.App, "55000 its columns changed since they were installed (appointment_id)", "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
	})

	// A read table dropped: the tables whose trigger functions read it are stale, and the relation that takes the
	// name next is checked by the install.
	t.Run("read_table_dropped", func(t *testing.T) {
		c := clinictest.New(t).AddRecords(t)
		must(t, c.Owner, "CREATE TABLE public.rt_appts (LIKE public.appointments INCLUDING ALL)")
		must(t, c.Owner, "DROP TABLE public.appointments CASCADE")
		try(t, c.App, "55000 they read public.appointments, which was dropped", "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
		must(t, c.Owner, "ALTER TABLE public.rt_appts RENAME TO appointments")
		must(t, c.Owner, "GRANT SELECT, INSERT, UPDATE, DELETE ON public.appointments TO auditrepo_app")
		try(t, c.App, "55000 they read public.appointments, which was dropped", "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
		err := repo.Install(ctx, c.Super, auditschema.Config{})
		if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), "column public.invoices.appointment_id, which the patient path follows") {
			t.Errorf("installing with the new appointments: %v, want it refused for invoices' missing key", err)
		}
	})
}
