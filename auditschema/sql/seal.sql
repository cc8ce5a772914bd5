{{- define "seal" -}}
-- Sealing (package seal): the signed checkpoints and the leaf hashes of the sealed rows. Both are append-only;
-- `auditrepo seal` runs as the reviewer role, which may read the trail and add to these tables, nothing more.

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

GRANT SELECT, INSERT ON {{.S}}.seal_checkpoint, {{.S}}.seal_leaf TO {{ident .Reviewer}};
{{- end -}}
