-- name: ImportLedger :copyfrom
INSERT INTO ledger (patient_id, amount) VALUES ($1, $2);

/* name: ImportMoreLedger :copyfrom */
INSERT INTO ledger (patient_id, amount) VALUES ($1, $2);

/* name: SetLedgerAmount :exec */
UPDATE ledger SET amount = $2 WHERE id = $1;

/* name: ClearLedger :exec */
TRUNCATE ledger;
