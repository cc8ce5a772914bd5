// Package errcase: patient paths through other models' tables that do not go on as those models' own patient
// paths: each would file its rows under an id that is not a patient's.
package errcase

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Person struct {
	audit.Model `table:"people" patient:"self if kind = 'patient'"`
	ID          int64
	Kind        string
	GuardianOf  pgtype.Int8
}

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
}

type Note struct {
	audit.Model `table:"notes" patient:"visit_id -> visits.patient_id"`
	ID          int64
	VisitID     int64
	Body        string
}

// Cut short: it stops at the visit's id, which is no patient's.
type Attachment struct {
	audit.Model `table:"attachments" patient:"note_id -> notes.visit_id"`
	ID          int64
	NoteID      int64
	Name        string
}

// Through a model whose rows are their own patients: person_id names the patient already.
type Contact struct {
	audit.Model `table:"contacts" patient:"person_id -> people.id"`
	ID          int64
	PersonID    int64
	Phone       string
}

// Past the patient column of visits: it is the patient already.
type Referral struct {
	audit.Model `table:"referrals" patient:"visit_id -> visits.patient_id -> people.id"`
	ID          int64
	VisitID     int64
	Reason      string
}

// Through a model whose rows are their own patients, to another of its columns: its id is the only patient there.
type Ward struct {
	audit.Model `table:"wards" patient:"guardian_id -> people.guardian_of"`
	ID          int64
	GuardianID  int64
}
