-- name: UpdateAppointmentStatus :one
UPDATE appointments SET status = $2 WHERE id = $1 RETURNING *;
