-- Reading the trail. audit_log rows are written only by the generated repositories and, for changes that bypass
-- them, by the backstop triggers (actor_kind 'unattributed').

-- name: ListPatientAudit :many
-- A patient's trail, including changes that moved a record away from them.
SELECT * FROM audit_log
WHERE patient_id = sqlc.arg(patient_id) OR prior_patient_id = sqlc.arg(patient_id)
ORDER BY id;

-- name: ListRecordAudit :many
SELECT * FROM audit_log WHERE target_table = $1 AND target_id = $2 ORDER BY id;
