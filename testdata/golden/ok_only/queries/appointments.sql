-- name: UpdateAppointmentStatus :one
UPDATE ONLY appointments SET status = $2 WHERE id = $1 RETURNING *;

-- name: DeleteAppointment :exec
DELETE FROM ONLY appointments WHERE id = $1;

-- name: DeleteAppointmentsOf :execrows
DELETE FROM ONLY public.appointments AS a WHERE a.patient_id = $1;
