-- name: WipeAll :exec
DO $$ BEGIN DELETE FROM ledger; END $$;

-- name: RunPrepared :exec
/* a prepared statement */ EXECUTE wipe_ledger_stmt;

-- name: WipePatientLedger :exec
CALL wipe_ledger($1);

-- name: ZeroLedger :exec
UPDATE ledger SET amount = 0 WHERE id = $1;
