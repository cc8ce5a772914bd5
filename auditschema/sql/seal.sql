{{- define "seal" -}}
-- Sealing (package seal): the signed checkpoints and the leaf hashes of the sealed rows. Both are append-only;
-- `auditrepo seal` runs as the sealer role (the sealing job's login, not the reviewers'), which may read the trail
-- and these tables, and append to them only through seal_leaves() and seal_checkpoint(), which take the next leaves
-- and the checkpoint that continues the latest, nothing else: an INSERT of a leaf no checkpoint covers, or of a leaf
-- or checkpoint out of sequence, would break every later seal (a duplicate key) and verify (a bad checkpoint) for
-- good, as neither table can be deleted from. The database can check neither a checkpoint's signature nor its
-- leaves' hashes: whoever holds the sealer's login can still append wrong ones, which only a superuser removes.

-- Sealing and verifying read the trail in (transaction_id, id) order, the order of the Merkle tree's leaves, one
-- batch after another; without this index each batch would sort the table.
CREATE INDEX ON {{.S}}.{{.T}} (transaction_id, id);

-- One row per signed checkpoint. note is the C2SP signed note as signed; the other columns repeat what it says
-- (and what seal needs to append: the compact range of the tree) so that SQL can read them.
CREATE TABLE {{.S}}.seal_checkpoint (
	tree_size      bigint PRIMARY KEY CHECK (tree_size > 0),
	prev_size      bigint NOT NULL CHECK (prev_size >= 0 AND prev_size < tree_size),
	-- Every row with prev_watermark <= transaction_id < watermark is a leaf of [prev_size, tree_size).
	prev_watermark xid8 NOT NULL,
	watermark      xid8 NOT NULL,
	root_hash      bytea NOT NULL,
	-- The hashes of the compact range [0, tree_size), so the next seal appends without reading every leaf.
	compact_range  bytea[] NOT NULL,
	-- The audit table's columns, in order, that the leaves of this checkpoint encode.
	columns        text[] NOT NULL,
	note           text NOT NULL,
	sealed_at      timestamptz NOT NULL DEFAULT now(),
	sealed_by      text NOT NULL DEFAULT session_user
);
CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.seal_checkpoint
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- One row per sealed audit row: its leaf hash and what the leaf commits to (the row's key, its occurred_at and
-- the SHA-256 of its columns), so that verify still has the hashes of rows whose month retention dropped and
-- can recompute each leaf hash from its row's key and time without the row.
CREATE TABLE {{.S}}.seal_leaf (
	leaf_index     bigint PRIMARY KEY,
	transaction_id xid8 NOT NULL,
	audit_id       bigint NOT NULL,
	occurred_at    timestamptz NOT NULL,
	row_hash       bytea NOT NULL,
	leaf_hash      bytea NOT NULL,
	UNIQUE (transaction_id, audit_id)
);
CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.seal_leaf
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- One row per seal_leaves() call of a transaction not yet committed: its deferred trigger checks, at commit, that
-- the leaves end where a checkpoint does, so no transaction commits leaves without the checkpoint that covers them.
CREATE TABLE {{.S}}.seal_pending (first_index bigint NOT NULL);

-- +goose StatementBegin
CREATE FUNCTION {{.S}}.seal_covered() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	IF coalesce((SELECT max(leaf_index) + 1 FROM {{.S}}.seal_leaf), 0) <> coalesce((SELECT max(tree_size) FROM {{.S}}.seal_checkpoint), 0) THEN
		RAISE EXCEPTION 'seal: leaf hashes appended without the checkpoint that covers them (call seal_checkpoint() in the transaction that called seal_leaves())'
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	DELETE FROM {{.S}}.seal_pending;
	RETURN NULL;
END
$ar$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER leaves_covered AFTER INSERT ON {{.S}}.seal_pending DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.seal_covered();

-- seal_leaves appends leaves first_index, first_index + 1, ... (the arrays' elements, in order): first_index must
-- be the next leaf, and the transaction must append the checkpoint that covers them (seal_covered). It takes the
-- lock Seal takes, so that the next leaf is still the next when they are inserted.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.seal_leaves(first_index bigint, transaction_ids xid8[], audit_ids bigint[], occurred_ats timestamptz[],
	row_hashes bytea[], leaf_hashes bytea[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	next bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('auditrepo seal ' || {{lit .QualifiedTable}}));
	next := coalesce((SELECT max(leaf_index) + 1 FROM {{.S}}.seal_leaf), 0);
	IF first_index IS DISTINCT FROM next THEN
		RAISE EXCEPTION 'seal: leaf % is not the next leaf: that is %', coalesce(first_index::text, 'NULL'), next
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	INSERT INTO {{.S}}.seal_leaf (leaf_index, transaction_id, audit_id, occurred_at, row_hash, leaf_hash)
	SELECT first_index + u.o - 1, u.t, u.a, u.at, u.r, u.l
	FROM unnest(transaction_ids, audit_ids, occurred_ats, row_hashes, leaf_hashes) WITH ORDINALITY AS u(t, a, at, r, l, o);
	INSERT INTO {{.S}}.seal_pending VALUES (first_index);
END
$ar$;
-- +goose StatementEnd

-- seal_checkpoint appends a checkpoint that continues the latest one: its previous tree size and watermark are the
-- latest's (0 and 0 for the first), its watermark is above that and final (no running transaction is below it),
-- and the leaves end at its tree size.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.seal_checkpoint(size bigint, prev bigint, prev_mark xid8, mark xid8, root bytea, compact bytea[],
	cols text[], signed text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	latest bigint := 0;
	latest_mark xid8 := '0';
	leaves bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('auditrepo seal ' || {{lit .QualifiedTable}}));
	SELECT c.tree_size, c.watermark INTO latest, latest_mark FROM {{.S}}.seal_checkpoint c ORDER BY c.tree_size DESC LIMIT 1;
	latest := coalesce(latest, 0);
	latest_mark := coalesce(latest_mark, '0');
	leaves := coalesce((SELECT max(leaf_index) + 1 FROM {{.S}}.seal_leaf), 0);
	IF prev IS DISTINCT FROM latest OR prev_mark IS DISTINCT FROM latest_mark THEN
		RAISE EXCEPTION 'seal: the checkpoint follows tree size % and watermark %, not the latest, tree size % and watermark %', prev, prev_mark, latest, latest_mark
			USING ERRCODE = 'integrity_constraint_violation';
	ELSIF NOT mark > prev_mark OR mark > pg_snapshot_xmin(pg_current_snapshot()) THEN
		RAISE EXCEPTION 'seal: watermark % is not above % and final', mark, prev_mark USING ERRCODE = 'integrity_constraint_violation';
	ELSIF size IS DISTINCT FROM leaves THEN
		RAISE EXCEPTION 'seal: a checkpoint of tree size % over % leaves', size, leaves USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	INSERT INTO {{.S}}.seal_checkpoint (tree_size, prev_size, prev_watermark, watermark, root_hash, compact_range, columns, note)
	VALUES (size, prev, prev_mark, mark, root, compact, cols, signed);
END
$ar$;
-- +goose StatementEnd

GRANT SELECT ON {{.S}}.seal_checkpoint, {{.S}}.seal_leaf TO {{ident .Reviewer}}, {{ident .Sealer}};
REVOKE ALL ON FUNCTION {{.S}}.seal_leaves(bigint, xid8[], bigint[], timestamptz[], bytea[], bytea[]),
	{{.S}}.seal_checkpoint(bigint, bigint, xid8, xid8, bytea, bytea[], text[], text), {{.S}}.seal_covered() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{.S}}.seal_leaves(bigint, xid8[], bigint[], timestamptz[], bytea[], bytea[]),
	{{.S}}.seal_checkpoint(bigint, bigint, xid8, xid8, bytea, bytea[], text[], text) TO {{ident .Sealer}};
{{- end -}}
