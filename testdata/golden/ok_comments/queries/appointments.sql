-- name: SetAppointmentStatus :exec
UPDATE /* the table */ appointments /* no alias */ SET status = $2 /* new */ WHERE id = $1 -- only this one
;

-- name: DeleteAppointment :execrows
DELETE FROM appointments WHERE id = $1 /* trailing block */;

-- name: CreateAppointment :one
INSERT /* c1 */ INTO appointments /* c2 */ (patient_id, /* c3 */ status) VALUES /* c4 */ ($1, /* c5 */ $2) /* c6 */ RETURNING * -- end
;

/* name: SetAppointmentNote :exec */
UPDATE appointments SET note = $2 WHERE id = $1;

-- name: CreateAppointmentNoted :one
INSERT INTO appointments (patient_id, status) VALUES -- a line comment before the row
($1, $2) RETURNING *;
