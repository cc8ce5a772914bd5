-- name: DeleteRecord :exec
DELETE FROM records WHERE key = $1;
