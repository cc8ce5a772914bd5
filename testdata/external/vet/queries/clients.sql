-- name: CreateClient :one
INSERT INTO clients (name, phone, portal_pin) VALUES ($1, $2, $3) RETURNING *;

-- name: UpdateClientPhone :one
UPDATE clients SET phone = $2, updated_at = now() WHERE id = $1 RETURNING *;

-- name: DeleteClient :exec
DELETE FROM clients WHERE id = $1;
