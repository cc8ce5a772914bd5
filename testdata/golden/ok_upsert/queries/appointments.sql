-- name: UpsertAppointment :one
INSERT INTO appointments AS a (patient_id, slot, status) VALUES ($1, $2, $3)
ON CONFLICT (slot) DO UPDATE SET status = EXCLUDED.status WHERE a.patient_id = EXCLUDED.patient_id
RETURNING *;

-- name: BookAppointment :execrows
INSERT INTO appointments (patient_id, slot, status) VALUES ($1, $2, 'booked') ON CONFLICT DO NOTHING;

-- name: RebookAppointment :one
-- $3 is in ON CONFLICT, outside the VALUES row: no RebookMany, whose parameters are arrays.
INSERT INTO appointments (patient_id, slot, status) VALUES ($1, $2, 'new') ON CONFLICT (slot) DO UPDATE SET status = $3 RETURNING *;

-- name: CreateAppointmentWith :one
WITH s AS (SELECT $3::text AS status) INSERT INTO appointments (patient_id, slot, status) VALUES ($1, $2, (SELECT status FROM s)) RETURNING *;
