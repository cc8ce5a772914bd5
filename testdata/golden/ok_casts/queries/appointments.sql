-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, status, visits) VALUES ($1::bigint, $2::text, CAST($3 AS int)) RETURNING *;

-- name: UpdateAppointmentVisits :one
UPDATE appointments SET visits = CAST($2 AS int), status = $3::text WHERE id = $1::bigint RETURNING *;
