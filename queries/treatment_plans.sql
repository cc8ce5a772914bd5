-- name: CreateTreatmentPlan :one
INSERT INTO treatment_plans (patient_id, dentist_id, title, description, status, estimated_cost)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: UpdateTreatmentPlan :one
UPDATE treatment_plans
SET patient_id = $2, dentist_id = $3, title = $4, description = $5, status = $6, estimated_cost = $7,
    updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteTreatmentPlan :exec
DELETE FROM treatment_plans WHERE id = $1;
