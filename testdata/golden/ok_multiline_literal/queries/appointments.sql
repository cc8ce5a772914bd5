-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, status, note) VALUES ($1, $2, 'first line
  -- not a comment, $3 not a parameter
/* nor this */ a `backtick`
last line') RETURNING *;

-- name: ResetAppointmentNote :exec
UPDATE appointments SET note = 'reset:
by the clinic' WHERE id = $1;
