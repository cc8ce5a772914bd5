-- sqlc takes a name header on any line of its statement: SQL before it would go unchecked.
INSERT INTO ledger (patient_id, amount)
-- name: ImportLedger :copyfrom
VALUES ($1, $2);

/* a comment before the header is fine */
-- name: SetLedgerAmount :exec
UPDATE ledger SET amount = $2 WHERE id = $1;
