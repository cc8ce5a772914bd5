// Package reliability holds tests of what the audit trail guarantees when things go wrong, against a real
// PostgreSQL server (package internal/testdb gives each test its own migrated database):
//
//   - contention and faults: concurrent writes to the same rows, and writes killed or cancelled at chosen
//     points, never leave a change without its audit row or an audit row without its change;
//   - audit write failure: when the audit insert fails (a failing constraint, a revoked privilege), every
//     repository write fails with audit.ErrAuditWrite and no PHI row changes;
//   - append-only by role: the application's role (auditrepo_app) cannot update, delete or truncate the
//     trail, nor disable its triggers or the backstop's;
//   - the backstop: a write to a PHI table that bypasses the generated repositories still leaves one audit
//     row per changed row, marked 'unattributed', while the repositories' own writes are logged once.
//
// The tests connect as auditrepo_app, as the application does, except where they break things on purpose.
package reliability
