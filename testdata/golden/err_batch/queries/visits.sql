-- name: CreateVisits :batchone
INSERT INTO visits (patient_id, reason) VALUES ($1, $2) RETURNING *;

-- name: UpdateVisitReasons :batchexec
UPDATE visits SET reason = $2 WHERE id = $1;

-- name: DeleteVisits :batchmany
DELETE FROM visits WHERE patient_id = $1 RETURNING *;
