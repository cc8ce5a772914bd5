-- name: CreatePatientIntakeForm :one
INSERT INTO patient_intake_forms (
    patient_id, allergies, medications, medical_conditions, emergency_contact, emergency_phone,
    insurance_provider, insurance_policy, smoker, pregnant, signed_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *;

-- name: UpdatePatientIntakeForm :one
UPDATE patient_intake_forms
SET allergies = $2, medications = $3, medical_conditions = $4, emergency_contact = $5,
    emergency_phone = $6, insurance_provider = $7, insurance_policy = $8, smoker = $9, pregnant = $10,
    signed_at = $11, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeletePatientIntakeForm :exec
DELETE FROM patient_intake_forms WHERE id = $1;
