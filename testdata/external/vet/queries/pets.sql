-- name: CreatePet :one
INSERT INTO pets (client_id, name, species) VALUES ($1, $2, $3) RETURNING *;

-- name: RenamePet :one
UPDATE pets SET name = $2 WHERE id = $1 RETURNING *;

-- name: DeletePet :exec
DELETE FROM pets WHERE id = $1;
