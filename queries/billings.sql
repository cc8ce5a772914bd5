-- name: CreateBilling :one
INSERT INTO billings (patient_id, amount, status, description) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: UpdateBilling :one
UPDATE billings
SET patient_id = $2, amount = $3, status = $4, description = $5, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteBilling :exec
DELETE FROM billings WHERE id = $1;
