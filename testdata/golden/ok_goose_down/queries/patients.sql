-- name: CreatePatient :one
INSERT INTO patients (temp, chair) VALUES ($1, $2) RETURNING *;

-- name: UpdatePatientTemp :exec
UPDATE patients SET temp = $2 WHERE id = $1;

-- name: UpdatePatientChair :exec
UPDATE patients SET chair = $2 WHERE id = $1;
