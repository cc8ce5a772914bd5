-- name: SetAppointmentStatus :exec
UPDATE appointments SET status = $2 WHERE id = $1;
