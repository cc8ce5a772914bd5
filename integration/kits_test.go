package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// kit drives one PHI model's repository generically. Records are written in variants: variant 0 is the
// created record, and every update to variant v changes exactly the columns in changed (each variant differs
// from the previous one in each of them). Images are the expected audit images, built from the values the test
// wrote (only generated values such as id and timestamps come from the returned record).
type kit struct {
	name, table string
	changed     []string           // columns an update to the next variant changes (incl. nonphi updated_at)
	moveChanged []string           // columns move changes; nil when the model's queries cannot move a record
	markCol     string             // column holding the bulk mark in the image
	markFn      func(i int) string // the mark of bulk record i; nil means mark(i)
	redact      []string           // redacted columns: "[REDACTED]" in every image

	// create writes variant 0 for patient1 and returns the expected CREATE image and patient.
	create func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error)
	// update writes variant v of record id (still patient1's) and returns the expected after image.
	update func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error)
	// move rewrites variant 0 of record id for patient2 and returns the expected after image.
	move func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error)
	del  func(ctx context.Context, r *repo.Repos, id int64) error
	// many creates n records with CreateMany: record i is marked mark(i) and belongs to patient1 when i is
	// even, patient2 when odd (users: a patient when even, staff when odd). It returns the records in the order
	// CreateMany returned them, and the expected patient of input i.
	many func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error)
}

type created struct {
	id      int64
	img     image
	patient pgtype.Int8
}

type manyRec struct {
	id   int64
	mark string
}

func mark(i int) string { return fmt.Sprintf("bulk-%02d", i) }

func (k kit) mark(i int) string {
	if k.markFn != nil {
		return k.markFn(i)
	}
	return mark(i)
}

// serial makes unique usernames within a test database.
var serial atomic.Int64

func alt(f *clinictest.Clinic, i int) int64 {
	if i%2 == 0 {
		return f.Patient1
	}
	return f.Patient2
}

func altAppt(f *clinictest.Clinic, i int) int64 {
	if i%2 == 0 {
		return f.Appt1
	}
	return f.Appt2
}

// Secret values written to excluded and redacted columns; they must never reach audit_log.
const (
	secretPassword = "pw-S3CRET-7f1c"
	secretToken    = "tok-S3CRET-9a2b"
	secretNotes    = "NOTES-S3CRET"
	secretPolicy   = "POLICY-S3CRET"
)

func kits() []kit {
	return []kit{userKit(), appointmentKit(), dentalRecordKit(), billingKit(), invoiceKit(), treatmentPlanKit(),
		documentKit(), intakeKit()}
}

func kitByName(name string) kit {
	for _, k := range kits() {
		if k.name == name {
			return k
		}
	}
	panic(name)
}

func userKit() kit {
	img := func(v int, u db.User) image {
		return image{
			"id": u.ID, "username": u.Username, "email": fmt.Sprintf("jdoe.v%d@test.com", v), "user_type": "patient",
			"role": "", "first_name": fmt.Sprintf("John v%d", v), "last_name": "Doe", "last_login": nil,
			"updated_at": u.UpdatedAt.Time,
		}
	}
	return kit{
		name: "User", table: "users", markCol: "username",
		changed: []string{"email", "first_name", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			name := fmt.Sprintf("jdoe-%d", serial.Add(1))
			u, err := r.User.Create(ctx, db.CreateUserParams{
				Username: name, Email: "jdoe.v0@test.com", Password: secretPassword,
				AuthToken: text(secretToken), UserType: "patient", FirstName: "John v0", LastName: "Doe",
			})
			i := img(0, u)
			i["username"] = name
			return created{u.ID, i, some(u.ID)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			u, err := r.User.Update(ctx, db.UpdateUserParams{
				ID: id, Email: fmt.Sprintf("jdoe.v%d@test.com", v), UserType: "patient",
				FirstName: fmt.Sprintf("John v%d", v), LastName: "Doe",
			})
			return img(v, u), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.User.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateUserParams, n)
			for i := range args {
				typ := "patient"
				if i%2 == 1 {
					typ = "staff"
				}
				args[i] = db.CreateUserParams{Username: mark(i), Email: mark(i) + "@test.com",
					Password: secretPassword + mark(i), AuthToken: text(secretToken + mark(i)), UserType: typ}
			}
			out, err := r.User.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			want := make([]pgtype.Int8, len(out))
			for i, u := range out {
				recs[i] = manyRec{u.ID, u.Username}
				if i%2 == 0 {
					want[i] = some(u.ID) // the record at i is input i once order is verified
				}
			}
			return recs, want, err
		},
	}
}

func appointmentKit() kit {
	statuses := []string{"confirmed", "completed", "cancelled"}
	img := func(f *clinictest.Clinic, v int, patient int64, a db.Appointment) image {
		return image{
			"id": a.ID, "patient_id": patient, "dentist_id": f.Dentist, "clinic_id": f.ClinicID, "date": "2026-03-01",
			"time": fmt.Sprintf("%02d:00:00", 10+v), "type": "checkup", "status": statuses[v%3],
			"notes": "[REDACTED]", "updated_at": a.UpdatedAt.Time,
		}
	}
	params := func(f *clinictest.Clinic, id int64, v int, patient int64) db.UpdateAppointmentParams {
		return db.UpdateAppointmentParams{
			ID: id, PatientID: patient, DentistID: f.Dentist, ClinicID: some(f.ClinicID), Date: date(2026, 3, 1),
			Time: clock(10+v, 0), Type: "checkup", Status: statuses[v%3], Notes: fmt.Sprintf("%s-v%d", secretNotes, v),
		}
	}
	return kit{
		name: "Appointment", table: "appointments", markCol: "type", redact: []string{"notes"},
		changed:     []string{"time", "status", "notes", "updated_at"},
		moveChanged: []string{"patient_id", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(f, 0, 0, f.Patient1)
			a, err := r.Appointment.Create(ctx, db.CreateAppointmentParams{
				PatientID: p.PatientID, DentistID: p.DentistID, ClinicID: p.ClinicID, Date: p.Date, Time: p.Time,
				Type: p.Type, Status: p.Status, Notes: p.Notes,
			})
			return created{a.ID, img(f, 0, f.Patient1, a), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			a, err := r.Appointment.Update(ctx, params(f, id, v, f.Patient1))
			return img(f, v, f.Patient1, a), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			a, err := r.Appointment.Update(ctx, params(f, id, 0, f.Patient2))
			return img(f, 0, f.Patient2, a), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.Appointment.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateAppointmentParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				clinic := pgtype.Int8{}
				if i%3 == 0 {
					clinic = some(f.ClinicID)
				}
				args[i] = db.CreateAppointmentParams{PatientID: alt(f, i), DentistID: f.Dentist, ClinicID: clinic,
					Date: date(2026, 5, 1+i%28), Time: clock(8+i%10, 30), Type: mark(i), Status: "scheduled",
					Notes: fmt.Sprintf("%s-bulk-%d", secretNotes, i)}
				want[i] = some(alt(f, i))
			}
			out, err := r.Appointment.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, a := range out {
				recs[i] = manyRec{a.ID, a.Type}
			}
			return recs, want, err
		},
	}
}

func dentalRecordKit() kit {
	img := func(f *clinictest.Clinic, v int, patient int64, d db.DentalRecord) image {
		return image{
			"id": d.ID, "patient_id": patient, "dentist_id": f.Dentist,
			"diagnosis": fmt.Sprintf("Cavity on tooth #%d", 14+v), "treatment": fmt.Sprintf("Filling v%d", v),
			"notes": "Patient tolerated procedure well", "created_at": d.CreatedAt.Time, "updated_at": d.UpdatedAt.Time,
		}
	}
	params := func(f *clinictest.Clinic, id int64, v int, patient int64) db.UpdateDentalRecordParams {
		return db.UpdateDentalRecordParams{ID: id, PatientID: patient, DentistID: f.Dentist,
			Diagnosis: fmt.Sprintf("Cavity on tooth #%d", 14+v), Treatment: fmt.Sprintf("Filling v%d", v),
			Notes: "Patient tolerated procedure well"}
	}
	return kit{
		name: "DentalRecord", table: "dental_records", markCol: "diagnosis",
		changed:     []string{"diagnosis", "treatment", "updated_at"},
		moveChanged: []string{"patient_id", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(f, 0, 0, f.Patient1)
			d, err := r.DentalRecord.Create(ctx, db.CreateDentalRecordParams{PatientID: p.PatientID,
				DentistID: p.DentistID, Diagnosis: p.Diagnosis, Treatment: p.Treatment, Notes: p.Notes})
			return created{d.ID, img(f, 0, f.Patient1, d), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			d, err := r.DentalRecord.Update(ctx, params(f, id, v, f.Patient1))
			return img(f, v, f.Patient1, d), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			d, err := r.DentalRecord.Update(ctx, params(f, id, 0, f.Patient2))
			return img(f, 0, f.Patient2, d), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.DentalRecord.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateDentalRecordParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				args[i] = db.CreateDentalRecordParams{PatientID: alt(f, i), DentistID: f.Dentist, Diagnosis: mark(i)}
				want[i] = some(alt(f, i))
			}
			out, err := r.DentalRecord.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, d := range out {
				recs[i] = manyRec{d.ID, d.Diagnosis}
			}
			return recs, want, err
		},
	}
}

func billingKit() kit {
	statuses := []string{"pending", "paid", "void"}
	amount := func(v int) string { return fmt.Sprintf("%d.50", 125+v) }
	img := func(v int, patient int64, b db.Billing) image {
		return image{
			"id": b.ID, "patient_id": patient, "amount": json.Number(amount(v)), "status": statuses[v%3],
			"description": fmt.Sprintf("Cleaning v%d", v), "updated_at": b.UpdatedAt.Time,
		}
	}
	params := func(id int64, v int, patient int64) db.UpdateBillingParams {
		return db.UpdateBillingParams{ID: id, PatientID: patient, Amount: num(amount(v)), Status: statuses[v%3],
			Description: fmt.Sprintf("Cleaning v%d", v)}
	}
	return kit{
		name: "Billing", table: "billings", markCol: "description",
		changed:     []string{"amount", "status", "description", "updated_at"},
		moveChanged: []string{"patient_id", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(0, 0, f.Patient1)
			b, err := r.Billing.Create(ctx, db.CreateBillingParams{PatientID: p.PatientID, Amount: p.Amount,
				Status: p.Status, Description: p.Description})
			return created{b.ID, img(0, f.Patient1, b), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			b, err := r.Billing.Update(ctx, params(id, v, f.Patient1))
			return img(v, f.Patient1, b), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			b, err := r.Billing.Update(ctx, params(id, 0, f.Patient2))
			return img(0, f.Patient2, b), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.Billing.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateBillingParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				args[i] = db.CreateBillingParams{PatientID: alt(f, i), Amount: num(fmt.Sprintf("%d.25", i)),
					Status: "pending", Description: mark(i)}
				want[i] = some(alt(f, i))
			}
			out, err := r.Billing.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, b := range out {
				recs[i] = manyRec{b.ID, b.Description}
			}
			return recs, want, err
		},
	}
}

func invoiceKit() kit {
	statuses := []string{"open", "paid", "void"}
	amount := func(v int) string { return fmt.Sprintf("%d.00", 200+v) }
	img := func(v int, appt int64, i db.Invoice) image {
		return image{
			"id": i.ID, "appointment_id": appt, "amount": json.Number(amount(v)), "status": statuses[v%3],
			"due_date": fmt.Sprintf("2026-04-%02d", 1+v), "updated_at": i.UpdatedAt.Time,
		}
	}
	params := func(id int64, v int, appt int64) db.UpdateInvoiceParams {
		return db.UpdateInvoiceParams{ID: id, AppointmentID: appt, Amount: num(amount(v)), Status: statuses[v%3],
			DueDate: date(2026, 4, 1+v)}
	}
	return kit{
		name: "Invoice", table: "invoices", markCol: "amount",
		markFn:      func(i int) string { return fmt.Sprintf("%d.00", i+1) },
		changed:     []string{"amount", "status", "due_date", "updated_at"},
		moveChanged: []string{"appointment_id", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(0, 0, f.Appt1)
			i, err := r.Invoice.Create(ctx, db.CreateInvoiceParams{AppointmentID: p.AppointmentID, Amount: p.Amount,
				Status: p.Status, DueDate: p.DueDate})
			return created{i.ID, img(0, f.Appt1, i), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			i, err := r.Invoice.Update(ctx, params(id, v, f.Appt1))
			return img(v, f.Appt1, i), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			i, err := r.Invoice.Update(ctx, params(id, 0, f.Appt2))
			return img(0, f.Appt2, i), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.Invoice.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateInvoiceParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				args[i] = db.CreateInvoiceParams{AppointmentID: altAppt(f, i), Amount: num(fmt.Sprintf("%d.00", i+1)), // the mark
					Status: "open", DueDate: date(2026, 6, 1)}
				want[i] = some(alt(f, i))
			}
			out, err := r.Invoice.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, inv := range out {
				v, _ := inv.Amount.Value()
				recs[i] = manyRec{inv.ID, fmt.Sprint(v)}
			}
			return recs, want, err
		},
	}
}

func treatmentPlanKit() kit {
	statuses := []string{"proposed", "accepted", "in_progress"}
	cost := func(v int) string { return fmt.Sprintf("%d.00", 4500+100*v) }
	img := func(f *clinictest.Clinic, v int, patient int64, p db.TreatmentPlan) image {
		return image{
			"id": p.ID, "patient_id": patient, "dentist_id": f.Dentist, "title": fmt.Sprintf("Orthodontics v%d", v),
			"description": "Braces, 18 months", "status": statuses[v%3], "estimated_cost": json.Number(cost(v)),
			"updated_at": p.UpdatedAt.Time,
		}
	}
	params := func(f *clinictest.Clinic, id int64, v int, patient int64) db.UpdateTreatmentPlanParams {
		return db.UpdateTreatmentPlanParams{ID: id, PatientID: patient, DentistID: f.Dentist,
			Title: fmt.Sprintf("Orthodontics v%d", v), Description: "Braces, 18 months", Status: statuses[v%3],
			EstimatedCost: num(cost(v))}
	}
	return kit{
		name: "TreatmentPlan", table: "treatment_plans", markCol: "title",
		changed:     []string{"title", "status", "estimated_cost", "updated_at"},
		moveChanged: []string{"patient_id", "updated_at"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(f, 0, 0, f.Patient1)
			tp, err := r.TreatmentPlan.Create(ctx, db.CreateTreatmentPlanParams{PatientID: p.PatientID,
				DentistID: p.DentistID, Title: p.Title, Description: p.Description, Status: p.Status,
				EstimatedCost: p.EstimatedCost})
			return created{tp.ID, img(f, 0, f.Patient1, tp), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			tp, err := r.TreatmentPlan.Update(ctx, params(f, id, v, f.Patient1))
			return img(f, v, f.Patient1, tp), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			tp, err := r.TreatmentPlan.Update(ctx, params(f, id, 0, f.Patient2))
			return img(f, 0, f.Patient2, tp), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.TreatmentPlan.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateTreatmentPlanParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				c := pgtype.Numeric{} // NULL cost for odd records
				if i%2 == 0 {
					c = num(fmt.Sprintf("%d.99", i))
				}
				args[i] = db.CreateTreatmentPlanParams{PatientID: alt(f, i), DentistID: f.Dentist, Title: mark(i),
					Status: "proposed", EstimatedCost: c}
				want[i] = some(alt(f, i))
			}
			out, err := r.TreatmentPlan.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, tp := range out {
				recs[i] = manyRec{tp.ID, tp.Title}
			}
			return recs, want, err
		},
	}
}

func documentKit() kit {
	img := func(v int, patient int64, d db.Document) image {
		return image{
			"id": d.ID, "patient_id": patient, "document_type": "xray", "filename": fmt.Sprintf("xray-v%d.png", v),
			"storage_path": fmt.Sprintf("s3://clinic/docs/xray-v%d.png", v), "uploaded_at": d.UploadedAt.Time,
		}
	}
	params := func(id int64, v int, patient int64) db.UpdateDocumentParams {
		return db.UpdateDocumentParams{ID: id, PatientID: patient, DocumentType: "xray",
			Filename: fmt.Sprintf("xray-v%d.png", v), StoragePath: fmt.Sprintf("s3://clinic/docs/xray-v%d.png", v)}
	}
	return kit{
		name: "Document", table: "documents", markCol: "filename",
		changed:     []string{"filename", "storage_path"}, // documents have no updated_at
		moveChanged: []string{"patient_id"},
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(0, 0, f.Patient1)
			d, err := r.Document.Create(ctx, db.CreateDocumentParams{PatientID: p.PatientID,
				DocumentType: p.DocumentType, Filename: p.Filename, StoragePath: p.StoragePath})
			return created{d.ID, img(0, f.Patient1, d), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			d, err := r.Document.Update(ctx, params(id, v, f.Patient1))
			return img(v, f.Patient1, d), err
		},
		move: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64) (image, error) {
			d, err := r.Document.Update(ctx, params(id, 0, f.Patient2))
			return img(0, f.Patient2, d), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.Document.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreateDocumentParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				args[i] = db.CreateDocumentParams{PatientID: alt(f, i), DocumentType: "scan", Filename: mark(i),
					StoragePath: "s3://clinic/docs/" + mark(i)}
				want[i] = some(alt(f, i))
			}
			out, err := r.Document.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, d := range out {
				recs[i] = manyRec{d.ID, d.Filename}
			}
			return recs, want, err
		},
	}
}

var signedAt = time.Date(2026, 2, 1, 9, 30, 15, 123456000, time.UTC)

func intakeKit() kit {
	img := func(v int, patient int64, p db.PatientIntakeForm) image {
		return image{
			"id": p.ID, "patient_id": patient, "allergies": fmt.Sprintf("penicillin v%d", v), "medications": "ibuprofen",
			"medical_conditions": "asthma", "emergency_contact": "Jane Doe", "emergency_phone": "+1-555-0100",
			"insurance_provider": "Acme Health", "insurance_policy": "[REDACTED]", "smoker": v%2 == 1,
			"pregnant": nil, "signed_at": signedAt, "updated_at": p.UpdatedAt.Time,
		}
	}
	params := func(id int64, v int) db.UpdatePatientIntakeFormParams {
		return db.UpdatePatientIntakeFormParams{ID: id, Allergies: fmt.Sprintf("penicillin v%d", v),
			Medications: "ibuprofen", MedicalConditions: "asthma", EmergencyContact: "Jane Doe",
			EmergencyPhone: "+1-555-0100", InsuranceProvider: "Acme Health",
			InsurancePolicy: fmt.Sprintf("%s-v%d", secretPolicy, v), Smoker: v%2 == 1,
			SignedAt: pgtype.Timestamptz{Time: signedAt, Valid: true}}
	}
	return kit{
		name: "PatientIntakeForm", table: "patient_intake_forms", markCol: "allergies", redact: []string{"insurance_policy"},
		changed: []string{"allergies", "insurance_policy", "smoker", "updated_at"},
		// UpdatePatientIntakeForm does not set patient_id: a form cannot move to another patient.
		create: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos) (created, error) {
			p := params(0, 0)
			pf, err := r.PatientIntakeForm.Create(ctx, db.CreatePatientIntakeFormParams{PatientID: f.Patient1,
				Allergies: p.Allergies, Medications: p.Medications, MedicalConditions: p.MedicalConditions,
				EmergencyContact: p.EmergencyContact, EmergencyPhone: p.EmergencyPhone,
				InsuranceProvider: p.InsuranceProvider, InsurancePolicy: p.InsurancePolicy, Smoker: p.Smoker,
				Pregnant: p.Pregnant, SignedAt: p.SignedAt})
			return created{pf.ID, img(0, f.Patient1, pf), some(f.Patient1)}, err
		},
		update: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, id int64, v int) (image, error) {
			pf, err := r.PatientIntakeForm.Update(ctx, params(id, v))
			return img(v, f.Patient1, pf), err
		},
		del: func(ctx context.Context, r *repo.Repos, id int64) error { return r.PatientIntakeForm.Delete(ctx, id) },
		many: func(ctx context.Context, f *clinictest.Clinic, r *repo.Repos, n int) ([]manyRec, []pgtype.Int8, error) {
			args := make([]db.CreatePatientIntakeFormParams, n)
			want := make([]pgtype.Int8, n)
			for i := range args {
				args[i] = db.CreatePatientIntakeFormParams{PatientID: alt(f, i), Allergies: mark(i),
					InsurancePolicy: fmt.Sprintf("%s-bulk-%d", secretPolicy, i), Smoker: i%3 == 0,
					Pregnant: pgtype.Bool{Bool: i%4 == 0, Valid: i%2 == 0}}
				want[i] = some(alt(f, i))
			}
			out, err := r.PatientIntakeForm.CreateMany(ctx, args)
			recs := make([]manyRec, len(out))
			for i, pf := range out {
				recs[i] = manyRec{pf.ID, pf.Allergies}
			}
			return recs, want, err
		},
	}
}
