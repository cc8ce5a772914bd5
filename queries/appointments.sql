-- name: GetAppointment :one
SELECT * FROM appointments WHERE id = $1;

-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, status, notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: UpdateAppointment :one
UPDATE appointments
SET patient_id = $2, dentist_id = $3, clinic_id = $4, date = $5, time = $6, type = $7, status = $8,
    notes = $9, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: UpdateAppointmentStatus :one
UPDATE appointments SET status = $2, updated_at = now() WHERE id = $1 RETURNING *;

-- name: DeleteAppointment :exec
DELETE FROM appointments WHERE id = $1;

-- A patient leaving the practice: every appointment still scheduled is cancelled, each audited.
-- name: CancelScheduledAppointments :many
UPDATE appointments SET status = 'cancelled', updated_at = now()
WHERE patient_id = $1 AND status = 'scheduled'
RETURNING *;
