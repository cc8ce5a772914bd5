-- name: DeleteAppointment :exec
DELETE FROM appointments WHERE id = $1;
