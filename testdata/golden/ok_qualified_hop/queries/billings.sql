-- name: DeleteBilling :exec
DELETE FROM billings WHERE id = $1;
