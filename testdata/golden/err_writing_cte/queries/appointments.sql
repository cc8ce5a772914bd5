-- name: PurgeAppointments :execrows
WITH gone AS (
    DELETE FROM appointments WHERE patient_id = $1 RETURNING id, status
)
INSERT INTO archive (id, status) SELECT id, status FROM gone;

-- name: CloseAppointments :many
WITH closed AS (UPDATE public.appointments SET status = 'closed' WHERE patient_id = $1 RETURNING id)
SELECT id FROM closed;

-- name: ExplainDeleteAppointments :many
EXPLAIN ANALYZE DELETE FROM appointments WHERE patient_id = $1;
