-- name: CreateVisit :one
INSERT INTO visits (patient_id, reason, note, "time", intake) VALUES ($1, lower($2), $3, $4, sqlc.narg(intake)::text::json) RETURNING *;

-- name: UpdateVisit :one
UPDATE visits SET reason = $2, note = $3, updated_at = now() WHERE id = $1 AND reason <> 'locked' RETURNING *;

-- name: SetVisitReason :exec
UPDATE visits SET reason = $2 WHERE id = $1;

-- name: DeleteVisit :one
DELETE FROM visits WHERE id = $1 RETURNING *;

-- Statements that change many rows: :many returns them, :execrows counts them.
-- name: RescheduleAll :many
UPDATE visits SET "time" = $2, updated_at = now() WHERE patient_id = $1 AND reason <> 'locked' RETURNING *;

-- name: CloseAll :execrows
UPDATE visits SET reason = 'closed' WHERE patient_id = $1 AND reason = $2;

-- name: PurgeClosed :many
DELETE FROM visits WHERE patient_id = $1 AND reason = 'closed' RETURNING *;

-- name: DeleteByReason :execrows
DELETE FROM visits WHERE patient_id = $1 AND reason = $2;
