-- name: CreateAllergy :one
INSERT INTO allergies (patient_id, allergies) VALUES ($1, $2) RETURNING *;

-- name: UpdateAllergies :one
UPDATE allergies SET allergies = allergies || ', ' || $2 WHERE allergies.id = $1 RETURNING *;

-- name: DeleteAllergy :exec
DELETE FROM allergies WHERE allergies.allergies = $1;
