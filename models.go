// Package clinic declares the dental clinic's PHI models for auditrepo-gen.
//
// Each struct embeds audit.Model, names its table and says how to find the patient a row belongs to.
// Every column of the table must be declared, so a new column cannot reach the audit trail (or stay
// out of it) without someone deciding which: untagged fields are audited; `audit:"exclude"` never
// writes the value, but a change to it writes an UPDATE row naming the field in changed_fields;
// `audit:"redact"` shows the field as [REDACTED] and names it in changed_fields when it changes;
// `audit:"nonphi"` (bookkeeping only, such as updated_at) records the value, but a change to such
// fields alone writes no audit row. The README documents the grammar.
package clinic

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

//go:generate go tool sqlc generate
//go:generate go tool auditrepo-gen -out gen/repo

// User holds patients and staff; a patient's own row is their PHI.
type User struct {
	audit.Model `table:"users" patient:"self if user_type = 'patient'"`
	ID          int64
	Username    string
	Email       string
	Password    string      `audit:"exclude"`
	AuthToken   pgtype.Text `audit:"exclude"`
	UserType    string
	Role        string
	FirstName   string
	LastName    string
	LastLogin   pgtype.Timestamptz `audit:"nonphi"` // login bookkeeping
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
}

// Appointment is a visit: who, with whom, where and when, and how it went.
type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	DentistID   int64
	ClinicID    pgtype.Int8
	Date        pgtype.Date
	Time        pgtype.Time
	Type        string
	Status      string
	Notes       string             `audit:"redact"`
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
}

// DentalRecord is the medical history: diagnoses and treatments.
type DentalRecord struct {
	audit.Model `table:"dental_records" patient:"patient_id"`
	ID          int64
	PatientID   int64
	DentistID   int64
	Diagnosis   string
	Treatment   string
	Notes       string
	CreatedAt   pgtype.Timestamptz // when the record was made: clinically meaningful, so audited
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
}

// Billing is a charge to a patient.
type Billing struct {
	audit.Model `table:"billings" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Amount      pgtype.Numeric
	Status      string
	Description string
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
}

// Invoice bills an appointment; its patient is the appointment's.
type Invoice struct {
	audit.Model   `table:"invoices" patient:"appointment_id -> appointments.patient_id"`
	ID            int64
	AppointmentID int64
	Amount        pgtype.Numeric
	Status        string
	DueDate       pgtype.Date
	UpdatedAt     pgtype.Timestamptz `audit:"nonphi"`
}

// TreatmentPlan is a proposed course of treatment and its cost.
type TreatmentPlan struct {
	audit.Model   `table:"treatment_plans" patient:"patient_id"`
	ID            int64
	PatientID     int64
	DentistID     int64
	Title         string
	Description   string
	Status        string
	EstimatedCost pgtype.Numeric
	UpdatedAt     pgtype.Timestamptz `audit:"nonphi"`
}

// Document is an uploaded file's metadata; the file's content is never in the database.
type Document struct {
	audit.Model  `table:"documents" patient:"patient_id"`
	ID           int64
	PatientID    int64
	DocumentType string
	Filename     string
	StoragePath  string
	UploadedAt   pgtype.Timestamptz // when the document was filed: clinically meaningful, so audited
}

// PatientIntakeForm is the medical questionnaire a patient fills in.
type PatientIntakeForm struct {
	audit.Model       `table:"patient_intake_forms" patient:"patient_id"`
	ID                int64
	PatientID         int64
	Allergies         string
	Medications       string
	MedicalConditions string
	EmergencyContact  string
	EmergencyPhone    string
	InsuranceProvider string
	InsurancePolicy   string `audit:"redact"`
	Smoker            bool
	Pregnant          pgtype.Bool
	SignedAt          pgtype.Timestamptz
	UpdatedAt         pgtype.Timestamptz `audit:"nonphi"`
}
