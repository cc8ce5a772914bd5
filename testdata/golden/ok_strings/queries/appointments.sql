-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, status, note) VALUES ($1, E'it\'s $1, \\ and \n', $$a $1 'dollar' literal$$ || $2) RETURNING *;

-- name: UpdateAppointmentNote :one
UPDATE appointments SET note = $tag$ $$ $2 $tag$ || E'\'' WHERE id = $1 RETURNING *;
