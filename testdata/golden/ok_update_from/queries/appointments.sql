-- name: SetAppointmentStatus :one
UPDATE appointments a SET status = s.code FROM statuses s WHERE a.id = $1 AND s.label = $2 RETURNING a.*;

-- name: RelabelAppointments :execrows
UPDATE appointments SET note = statuses.label FROM statuses WHERE appointments.status = statuses.code AND appointments.patient_id = $1;
