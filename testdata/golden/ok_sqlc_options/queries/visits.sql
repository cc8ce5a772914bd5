-- name: CreateVisit :one
INSERT INTO visits (patient_id, reason, seen_at, fee, kind) VALUES ($1, $2, $3, $4, $5) RETURNING *;

-- name: RescheduleVisits :many
UPDATE visits SET seen_at = $2 WHERE patient_id = $1 RETURNING *;

-- name: DeleteVisit :exec
DELETE FROM visits WHERE id = $1;
