package audit

// Model marks a struct in a models file as a PHI model for auditrepo-gen. Embed it by value and describe the
// table and the patient path in its tags:
//
//	type Invoice struct {
//		audit.Model `table:"invoices" patient:"appointment_id -> appointments.patient_id"`
//		...
//	}
//
// The README documents the full tag grammar.
type Model struct{}
