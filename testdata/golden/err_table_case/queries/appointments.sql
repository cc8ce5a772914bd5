-- name: SetAppointmentStatus :exec
UPDATE appointments SET status = $2 WHERE id = $1;

-- name: DeleteInvoice :exec
DELETE FROM invoices WHERE id = $1;
