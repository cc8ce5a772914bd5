-- name: RenameCustomer :one
UPDATE pharmacy.customers SET name = $2 WHERE id = $1 RETURNING *;

-- name: DeletePrescription :exec
DELETE FROM prescriptions WHERE id = $1;
