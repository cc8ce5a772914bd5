-- name: CreateAppointment :one
INSERT INTO appointments (id, patient_id, status) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3) RETURNING *;

-- name: ImportAppointment :one
INSERT INTO appointments (id, patient_id, status, note) OVERRIDING USER VALUE VALUES ($1, $2, $3, $4) RETURNING *;
