-- name: CreateVisit :one
INSERT INTO visits (patient_id, kind, followup_of, note) VALUES ($1, $2, $3, $4) RETURNING *;
