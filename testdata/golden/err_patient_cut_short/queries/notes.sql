-- name: CreateAttachment :one
INSERT INTO attachments (note_id, name) VALUES ($1, $2) RETURNING *;
