-- name: SetLedgerAmount :exec
UPDATE ledger SET amount = $2 WHERE id = $1;

-- name: SetViewAmount :exec
UPDATE ledger_view SET amount = $2 WHERE id = $1;

-- name: DeleteBig :exec
DELETE FROM public.big_ledger WHERE id = $1;

-- name: ReadView :many
SELECT id, amount FROM ledger_view WHERE patient_id = $1;
