-- name: CancelLatestAppointment :one
WITH latest AS (
    SELECT max(id) AS latest_id FROM appointments GROUP BY patient_id
)
UPDATE appointments SET status = $2 WHERE appointments.patient_id = $1 AND appointments.id IN (SELECT latest_id FROM latest) RETURNING *;

-- name: PurgeOldAppointments :execrows
WITH old AS (SELECT id AS old_id FROM appointments WHERE status = 'done')
DELETE FROM appointments WHERE appointments.patient_id = $1 AND appointments.id IN (SELECT old_id FROM old);
