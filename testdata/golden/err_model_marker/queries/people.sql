-- name: CreatePerson :one
INSERT INTO people (kind, name, secret) VALUES ($1, $2, $3) RETURNING *;

-- name: RenamePerson :one
UPDATE people p SET name = $2 WHERE p.id = $1 RETURNING *;

-- name: DeletePerson :exec
DELETE FROM people WHERE id = $1;

-- name: GetPerson :one
SELECT * FROM people WHERE id = $1 FOR UPDATE;
