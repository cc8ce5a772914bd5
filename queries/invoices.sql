-- name: CreateInvoice :one
INSERT INTO invoices (appointment_id, amount, status, due_date) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: UpdateInvoice :one
UPDATE invoices
SET appointment_id = $2, amount = $3, status = $4, due_date = $5, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteInvoice :exec
DELETE FROM invoices WHERE id = $1;
