-- name: CreateVisit :one
INSERT INTO visits (patient_id, tags) VALUES ($1, $2) RETURNING *;

-- name: CreateVisitWithScan :one
INSERT INTO visits (patient_id, tags, scan) VALUES ($1, '{}', $2) RETURNING *;

-- name: CreateVisitWithIntake :one
INSERT INTO visits (patient_id, tags, intake) VALUES ($1, '{}', sqlc.narg(intake)::text::json) RETURNING *;
