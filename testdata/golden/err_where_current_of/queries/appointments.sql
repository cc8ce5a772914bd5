-- name: DeleteCurrentAppointment :exec
DELETE FROM appointments WHERE CURRENT OF appointment_cursor;
