-- Clinic locations hold no PHI: plain sqlc queries, no audit.

-- name: CreateClinicLocation :one
INSERT INTO clinic_locations (name, address) VALUES ($1, $2) RETURNING *;
