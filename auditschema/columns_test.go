package auditschema_test

import (
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
)

// TestAuditColumns: the audit table's columns and types, read from the schema SQL, with the audit schema's name
// on its domains.
func TestAuditColumns(t *testing.T) {
	cols, err := auditschema.Config{Schema: "my audit"}.AuditColumns()
	if err != nil {
		t.Fatal(err)
	}
	want := []auditschema.Column{{"id", "bigint"}, {"occurred_at", "timestamptz"}, {"transaction_id", "xid8"}, {"db_role", "text"},
		{"client_addr", "inet"}, {"application", "text"}, {"actor_kind", `"my audit".audit_actor_kind`}, {"actor_id", "bigint"},
		{"ip", "inet"}, {"user_agent", "text"}, {"request_id", "text"}, {"method", "text"}, {"action", `"my audit".audit_action`},
		{"target_table", "text"}, {"target_id", "bigint"}, {"patient_id", "bigint"}, {"prior_patient_id", "bigint"}, {"changes", "jsonb"}}
	if len(cols) != len(want) {
		t.Fatalf("AuditColumns = %v, want %v", cols, want)
	}
	for i := range want {
		if cols[i] != want[i] {
			t.Errorf("column %d = %v, want %v", i, cols[i], want[i])
		}
	}
}
