-- name: CreateVisit :one
INSERT INTO visits (patient_id, reason, note, "time") VALUES ($1, lower($2), $3, $4) RETURNING *;

-- name: UpdateVisit :one
UPDATE visits SET reason = $2, note = $3, updated_at = now() WHERE id = $1 AND reason <> 'locked' RETURNING *;

-- name: DeleteVisit :one
DELETE FROM visits WHERE id = $1 RETURNING *;
