-- name: SetLedgerAmount :exec
UPDATE ledger SET amount = $2 WHERE id = $1;

-- name: SetViewAmount :exec
UPDATE ledger_view SET amount = $2 WHERE id = $1;

-- name: DeleteStaged :exec
DELETE FROM staged WHERE id = $1;

-- name: DeleteMoved :exec
DELETE FROM ward.moved WHERE id = $1;
