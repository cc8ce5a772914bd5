-- name: CreateAppointment :one
INSERT INTO appointments (patient_id, status, note) VALUES (@patient_id, sqlc.arg(status), sqlc.narg(note)) RETURNING *;

-- name: UpdateAppointment :one
UPDATE appointments SET status = sqlc.arg(new_status), note = coalesce(sqlc.narg(note), note) WHERE id = @id RETURNING *;

-- name: DeleteAppointment :exec
DELETE FROM appointments WHERE id = sqlc.arg(id) AND status = @status;
