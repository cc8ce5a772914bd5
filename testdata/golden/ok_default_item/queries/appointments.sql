-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, status, booked_at, note) VALUES ($1, $2, DEFAULT, $3) RETURNING *;
