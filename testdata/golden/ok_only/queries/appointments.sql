-- name: UpdateAppointmentStatus :one
UPDATE ONLY appointments SET status = $2 WHERE id = $1 RETURNING *;

-- name: DeleteAppointment :exec
DELETE FROM ONLY appointments WHERE id = $1;

-- name: DeleteAppointmentsOf :execrows
DELETE FROM ONLY public.appointments AS a WHERE a.patient_id = $1;

-- name: UpdateAppointmentNote :exec
UPDATE ONLY (appointments) SET note = $2 WHERE id = $1;

-- name: ResetAppointmentNotes :many
UPDATE ONLY (public.appointments) SET note = NULL RETURNING id;
