-- name: CreateVisit :one
INSERT INTO visits (pet_id, reason) VALUES ($1, $2) RETURNING *;

-- name: UpdateVisitDiagnosis :one
UPDATE visits SET diagnosis = $2 WHERE id = $1 RETURNING *;

-- name: DeleteVisit :exec
DELETE FROM visits WHERE id = $1;
