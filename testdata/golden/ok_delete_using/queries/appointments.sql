-- name: DeleteCancelledAppointments :many
DELETE FROM appointments a USING cancellations c WHERE a.id = c.appointment_id AND c.reason = $1 RETURNING a.*;

-- name: DeleteAppointmentIfCancelled :execrows
DELETE FROM appointments USING cancellations WHERE appointments.id = cancellations.appointment_id AND appointments.id = $1;
