-- One parameter: an argument of its own, and a bulk variant taking a slice of it.
-- name: CreatePersonNamed :one
INSERT INTO people (name, secret) VALUES ($1, '') RETURNING *;

-- Two: two arguments, and no bulk variant.
-- name: CreatePerson :one
INSERT INTO people (name, secret) VALUES ($1, $2) RETURNING *;

-- Three, over the limit: a Params struct, and a bulk variant taking a slice of it.
-- name: CreatePersonNoted :one
INSERT INTO people (name, secret, note) VALUES ($1, $2, $3) RETURNING *;

-- name: RenamePerson :one
UPDATE people SET name = @name WHERE id = @id RETURNING *;

-- name: DeletePerson :exec
DELETE FROM people WHERE id = $1;
