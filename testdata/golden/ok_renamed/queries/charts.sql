-- name: CreateChart :one
INSERT INTO charts (patient_id, tooth, grade, note) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: UpdateChartTooth :exec
UPDATE charts SET tooth = $2 WHERE id = $1;

-- name: UpdateChartGrade :exec
UPDATE charts SET grade = $2 WHERE id = $1;
