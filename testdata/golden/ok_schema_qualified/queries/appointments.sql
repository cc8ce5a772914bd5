-- name: UpdateAppointmentStatus :one
UPDATE public.appointments SET status = $2 WHERE id = $1 RETURNING *;

-- name: DeleteAppointment :exec
DELETE FROM public.appointments WHERE id = $1;
