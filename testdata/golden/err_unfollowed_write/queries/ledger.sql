-- name: SetLedgerAmount :exec
UPDATE ledger SET amount = $2 WHERE id = $1;

-- name: DeleteTotals :exec
DELETE FROM ledger_totals WHERE patient_id = $1;

-- name: ReadTotals :many
SELECT patient_id, amount FROM ledger_totals WHERE patient_id = $1;
