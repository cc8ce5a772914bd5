-- name: CreateRoom :one
INSERT INTO rooms (name) VALUES ($1) RETURNING *;

-- name: RenameRoom :exec
UPDATE rooms SET name = $2 WHERE id = $1;

-- name: DeleteRoom :exec
DELETE FROM rooms WHERE id = $1;

-- name: ListRooms :many
SELECT * FROM rooms ORDER BY id;
