// Package errtriggernameclash: two tables whose audit trigger function names PostgreSQL would cut to the same 63
// bytes: one would silently replace the other's.
package errtriggernameclash

import "github.com/auditrepo/auditrepo/audit"

type IntakeFormAnswerRevisionsKeptForTheClinicXOne struct {
	audit.Model `table:"intake_form_answer_revisions_kept_for_the_clinic_x_one" patient:"patient_id"`
	ID          int64
	PatientID   int64
}

type IntakeFormAnswerRevisionsKeptForTheClinicXTwo struct {
	audit.Model `table:"intake_form_answer_revisions_kept_for_the_clinic_x_two" patient:"patient_id"`
	ID          int64
	PatientID   int64
}
