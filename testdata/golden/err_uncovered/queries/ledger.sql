-- name: CreateLedgerEntry :exec
INSERT INTO ledger (patient_id, amount) VALUES ($1, $2);

-- name: PurgeLedger :execrows
WITH gone AS (DELETE FROM ledger WHERE patient_id = $1 RETURNING id) SELECT count(*) FROM gone;

-- name: BumpLedger :one
UPDATE ledger SET amount = amount + 1 WHERE patient_id = $1 RETURNING *;

-- name: ImportLedger :copyfrom
INSERT INTO ledger (patient_id, amount) VALUES ($1, $2);

-- name: ClearLedger :exec
TRUNCATE ledger;

-- name: ZeroLedger :one
UPDATE ledger SET amount = 0 WHERE patient_id = $1 RETURNING id;
