// Package reliability holds tests of what the audit trail guarantees when things go wrong, against a real
// PostgreSQL server (package internal/testdb gives each test its own migrated database):
//
//   - contention and faults: concurrent writes to the same rows, and writes killed or cancelled at chosen
//     points, never leave a change without its audit row or an audit row without its change;
//   - audit write failure: when the audit triggers cannot write (a failing constraint, a revoked privilege on
//     auditrepo.audit_log), every write fails, repository writes with audit.ErrAuditWrite, and no PHI row changes;
//   - append-only by role: the application (auditrepo_app) has no privilege on the audit tables, the reviewer
//     may only read them, and neither the application nor the owner of the clinic's tables can write, empty or
//     silence the trail (its tables and triggers belong to auditrepo_audit); the trigger functions' own role
//     (auditrepo_writer) may add audit rows and nothing more;
//   - raw writes: a write to a PHI table that bypasses the generated repositories still leaves one audit row
//     per changed row with its true images, marked 'unattributed', while the repositories' own writes are
//     recorded once, attributed to their actor;
//   - hostile input and fuzzing: what is written is what the trail shows, or the write is refused.
//
// The tests write as auditrepo_app, as the application does, read the trail as the reviewer
// (internal/clinictest), and act as the owner or the superuser only where that is the point.
package reliability
