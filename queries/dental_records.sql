-- name: CreateDentalRecord :one
INSERT INTO dental_records (patient_id, dentist_id, diagnosis, treatment, notes)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: UpdateDentalRecord :one
UPDATE dental_records
SET patient_id = $2, dentist_id = $3, diagnosis = $4, treatment = $5, notes = $6, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteDentalRecord :exec
DELETE FROM dental_records WHERE id = $1;
