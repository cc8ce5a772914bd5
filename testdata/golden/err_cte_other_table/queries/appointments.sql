-- name: UpdateAppointmentStatus :one
WITH logged AS (INSERT INTO events (what) VALUES ('status') RETURNING id)
UPDATE appointments SET status = $2 WHERE appointments.id = $1 RETURNING *;
