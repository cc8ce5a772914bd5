-- name: CreateBilling :one
INSERT INTO public.billings (patient_id, amount) VALUES ($1, $2) RETURNING *;

-- name: DeleteBilling :execrows
DELETE FROM billings WHERE patient_id = $1;
