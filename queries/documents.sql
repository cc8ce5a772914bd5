-- name: CreateDocument :one
INSERT INTO documents (patient_id, document_type, filename, storage_path)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: UpdateDocument :one
UPDATE documents SET patient_id = $2, document_type = $3, filename = $4, storage_path = $5
WHERE id = $1
RETURNING *;

-- name: DeleteDocument :exec
DELETE FROM documents WHERE id = $1;
