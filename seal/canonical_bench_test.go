package seal

import (
	"strings"
	"testing"
)

// canonicalBenchRows are audit rows' changes as jsonb prints them: an UPDATE of a visit, a CREATE of a user, a
// DELETE with longer free text, and a MOVE.
var canonicalBenchRows = []string{
	`{"after": {"id": 1234567, "notes": "cleaning, no findings", "reason": "checkup", "status": "done", "intake": {"pain": 3, "meds": ["ibuprofen", "none"], "allergies": null}, "patient_id": 42, "visited_at": "2026-03-05T10:30:00+00:00"}, "before": {"id": 1234567, "notes": "cleaning", "reason": "checkup", "status": "booked", "intake": {"pain": 3, "meds": ["ibuprofen"], "allergies": null}, "patient_id": 42, "visited_at": "2026-03-05T10:30:00+00:00"}, "changed_fields": ["notes", "status", "intake"]}`,
	`{"after": {"id": 77, "role": "", "email": "alice@example.com", "username": "alice", "last_name": "Liddell", "user_type": "patient", "first_name": "Alice", "last_login": null, "updated_at": "2026-01-02T03:04:05.123456+00:00"}}`,
	`{"deleted_record": {"id": 9, "notes": "Patient reports \"sharp\" pain\nafter the procédure — follow up in 2 weeks. ` + strings.Repeat("Lorem ipsum dolor sit amet. ", 10) + `", "amount": 1250.50, "patient_id": 3}}`,
	`{"to": 8, "from": 7}`,
}

func BenchmarkCanonicalJSON(b *testing.B) {
	n := 0
	for _, r := range canonicalBenchRows {
		n += len(r)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range canonicalBenchRows {
			if _, err := CanonicalJSON([]byte(r)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
