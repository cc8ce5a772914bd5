-- name: UpdateAppointmentStatus :one
UPDATE appointments SET status = $2 WHERE id = $1 AND status IS DISTINCT FROM $2 RETURNING *;

-- name: ClearAppointmentNote :execrows
UPDATE appointments SET note = NULL WHERE patient_id = $1 AND note IS NOT DISTINCT FROM $2;
