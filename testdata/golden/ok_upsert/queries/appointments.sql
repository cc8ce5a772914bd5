-- name: UpsertAppointment :one
INSERT INTO appointments AS a (patient_id, slot, status) VALUES ($1, $2, $3)
ON CONFLICT (slot) DO UPDATE SET status = EXCLUDED.status WHERE a.patient_id = EXCLUDED.patient_id
RETURNING *;

-- name: BookAppointment :execrows
INSERT INTO appointments (patient_id, slot, status) VALUES ($1, $2, 'booked') ON CONFLICT DO NOTHING;
