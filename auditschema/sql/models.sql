{{- define "model_functions" -}}
-- foreign_code names the first function, operator or type (an enum carries no code) of a role that is no superuser
-- that an index, statistics or constraint of rel calls or casts to, or returns NULL: the trigger functions read
-- the models' tables by name, as the writer role, and planning a read folds those expressions (constraints with
-- constraint_exclusion on; a domain's checks, where an expression casts to it), running that code as the writer
-- role.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.foreign_code(rel oid) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
SELECT format('%s, of %s', pg_describe_object(d.refclassid, d.refobjid, 0), pg_get_userbyid(o.owner))
FROM pg_depend d
CROSS JOIN LATERAL (SELECT CASE d.refclassid
	WHEN 'pg_proc'::regclass THEN (SELECT p.proowner FROM pg_proc p WHERE p.oid = d.refobjid)
	WHEN 'pg_operator'::regclass THEN (SELECT p.oprowner FROM pg_operator p WHERE p.oid = d.refobjid)
	WHEN 'pg_type'::regclass THEN (SELECT t.typowner FROM pg_type t WHERE t.oid = d.refobjid AND t.typtype <> 'e') END) o(owner)
WHERE ((d.classid = 'pg_class'::regclass AND d.objid IN (SELECT x.indexrelid FROM pg_index x WHERE x.indrelid = rel))
	OR (d.classid = 'pg_statistic_ext'::regclass AND d.objid IN (SELECT x.oid FROM pg_statistic_ext x WHERE x.stxrelid = rel))
	OR (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT x.oid FROM pg_constraint x WHERE x.conrelid = rel)))
	AND NOT (SELECT u.rolsuper FROM pg_roles u WHERE u.oid = o.owner)
ORDER BY 1 LIMIT 1;
END;
-- +goose StatementEnd

-- id_key_problems is what rel, an audited table (as name), lacks of the id its audit triggers need: a row (what, fix)
-- unless id is NOT NULL and has a unique, immediate index on it alone with no predicate; none when it has no column
-- id (a problem of its columns). The triggers pair a row's old and new versions by id (transition tables keep no
-- other link): rows sharing one would have their images mixed up, or a change of either written as two halves. An
-- audit row names its target by id, which the audit table requires: a row with a NULL id would fail the write with
-- a not-null violation whose DETAIL carries the audit row, its image included, to the application's logs.
-- model_problems checks it before installing, record_ddl_as after every command on the table.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.id_key_problems(rel oid, name text) RETURNS TABLE (what text, fix text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
SELECT pg_catalog.format('table %s has %s (id must be NOT NULL and unique on its own: a PRIMARY KEY, or NOT NULL and a UNIQUE constraint, not deferrable): the audit triggers pair a row''s old and new versions by id, and an audit row names its target by it (a NULL one would fail the write, with the row''s image in the error)',
		name, pg_catalog.array_to_string(ARRAY[CASE WHEN NOT u.uniq THEN 'no unique index on id alone' END, CASE WHEN NOT a.attnotnull THEN 'an id that may be NULL' END], ' and ')),
	pg_catalog.array_to_string(ARRAY[CASE WHEN NOT a.attnotnull THEN pg_catalog.format('ALTER TABLE %s ALTER COLUMN id SET NOT NULL;', name) END,
		CASE WHEN NOT u.uniq THEN pg_catalog.format('ALTER TABLE %s ADD UNIQUE (id);', name) END], ' ')
FROM pg_catalog.pg_attribute a
CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_index x WHERE x.indrelid OPERATOR(pg_catalog.=) rel AND x.indisunique AND x.indimmediate
	AND x.indnkeyatts OPERATOR(pg_catalog.=) 1 AND x.indkey[0] OPERATOR(pg_catalog.=) a.attnum AND x.indpred IS NULL)) u(uniq)
WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) 'id' AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	AND (NOT u.uniq OR NOT a.attnotnull);
END;
-- +goose StatementEnd

-- ref_problems is what a step of a patient path lacks, column col of table src holding ids of table dst (each as
-- SQL names it; see Ref in package auditschema): a row (what, fix) unless col has a validated foreign key to dst's
-- id that is ON DELETE RESTRICT ON UPDATE RESTRICT and not deferrable, and no other key there; none while either
-- table does not exist. The fix drops the other keys and validates or adds one. model_problems checks it before
-- installing, record_ddl_as after every command on either table.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.ref_problems(src text, col text, dst text) RETURNS TABLE (what text, fix text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
SELECT pg_catalog.format('column %s.%s, which the patient path follows, needs exactly the foreign keys to %s (id) that are validated, not deferrable and ON DELETE RESTRICT ON UPDATE RESTRICT: without one, a statement could delete or re-key the %s row, or give its id to another row, and the dependents would change patient with no audit row of theirs',
		src, col, dst, dst),
	pg_catalog.format('ALTER TABLE %s %s;', src, pg_catalog.array_to_string(f.fixes, ', '))
FROM (
	SELECT pg_catalog.array_agg(k.conname::text ORDER BY k.conname) FILTER (WHERE NOT k.ok) AS bad,
		(pg_catalog.array_agg(k.conname::text ORDER BY NOT k.convalidated, k.conname) FILTER (WHERE k.ok))[1] AS good,
		COALESCE(pg_catalog.bool_or(k.ok AND k.convalidated), false) AS valid
	FROM (SELECT k.conname, k.confdeltype OPERATOR(pg_catalog.=) 'r' AND k.confupdtype OPERATOR(pg_catalog.=) 'r' AND NOT k.condeferrable AS ok, k.convalidated
		FROM pg_catalog.pg_constraint k
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attname::text OPERATOR(pg_catalog.=) col
		JOIN pg_catalog.pg_attribute b ON b.attrelid OPERATOR(pg_catalog.=) k.confrelid AND b.attname OPERATOR(pg_catalog.=) 'id'
		WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.conrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(src)
			AND k.confrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(dst)
			AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum] AND k.confkey OPERATOR(pg_catalog.=) ARRAY[b.attnum]) k
) s
CROSS JOIN LATERAL (SELECT ARRAY(
	SELECT 'DROP CONSTRAINT "' OPERATOR(pg_catalog.||) pg_catalog.replace(x.name, '"', '""') OPERATOR(pg_catalog.||) '"'
	FROM pg_catalog.unnest(s.bad) WITH ORDINALITY x(name, k)
	UNION ALL
	SELECT 'VALIDATE CONSTRAINT "' OPERATOR(pg_catalog.||) pg_catalog.replace(s.good, '"', '""') OPERATOR(pg_catalog.||) '"'
	WHERE s.good IS NOT NULL AND NOT s.valid
	UNION ALL
	SELECT pg_catalog.format('ADD FOREIGN KEY ("%s") REFERENCES %s (id) ON DELETE RESTRICT ON UPDATE RESTRICT', pg_catalog.replace(col, '"', '""'), dst)
	WHERE s.good IS NULL) AS fixes) f
WHERE pg_catalog.to_regclass(src) IS NOT NULL AND pg_catalog.to_regclass(dst) IS NOT NULL
	AND pg_catalog.cardinality(f.fixes) OPERATOR(pg_catalog.>) 0;
END;
-- +goose StatementEnd

-- base_type is what a column of type typ with type modifier typmod holds, seen through domains and arrays (to their
-- element type): the type, its type modifier (the column's, or its domain's, which takes none where it is used),
-- and whether an array was seen through. model_problems checks the generator's verdicts on the column by it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.base_type(typ oid, typmod integer, OUT base oid, OUT base_typmod integer, OUT arr boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
WITH RECURSIVE d(oid, typmod, arr, n) AS (
	SELECT typ, typmod, false, 0
	UNION ALL
	SELECT CASE WHEN t.typtype OPERATOR(pg_catalog.=) 'd' THEN t.typbasetype ELSE t.typelem END,
		CASE WHEN t.typtype OPERATOR(pg_catalog.=) 'd' THEN pg_catalog.int4larger(d.typmod, t.typtypmod) ELSE d.typmod END,
		d.arr OR t.typtype OPERATOR(pg_catalog.<>) 'd', d.n OPERATOR(pg_catalog.+) 1
	FROM d JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) d.oid
	WHERE (t.typtype OPERATOR(pg_catalog.=) 'd' OR t.typelem OPERATOR(pg_catalog.<>) 0 AND t.typlen OPERATOR(pg_catalog.=) -1)
		AND d.n OPERATOR(pg_catalog.<) 100
)
SELECT d.oid, d.typmod, d.arr FROM d ORDER BY d.n DESC LIMIT 1;
END;
-- +goose StatementEnd

-- float_type is a type whose text a value of type typ may print floats in, by extra_float_digits: typ itself or one
-- it holds (through domains, arrays and other types with elements, composites' attributes, ranges' subtypes and
-- multiranges' ranges) that is float4 or float8, geometric, or a base type that is no built-in (an extension's,
-- whose output the catalog does not tell); NULL if none.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.float_type(typ oid) RETURNS regtype
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
WITH RECURSIVE h(oid) AS (
	SELECT typ
	UNION
	SELECT x.oid FROM h JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) h.oid
	CROSS JOIN LATERAL (
		SELECT t.typbasetype WHERE t.typtype OPERATOR(pg_catalog.=) 'd'
		UNION ALL SELECT t.typelem WHERE t.typelem OPERATOR(pg_catalog.<>) 0
		UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a WHERE t.typrelid OPERATOR(pg_catalog.<>) 0
			AND a.attrelid OPERATOR(pg_catalog.=) t.typrelid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid OPERATOR(pg_catalog.=) t.oid
		UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid OPERATOR(pg_catalog.=) t.oid) x(oid)
)
SELECT t.oid::pg_catalog.regtype FROM h JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) h.oid
WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype]::pg_catalog.oid[])
	OR t.typcategory OPERATOR(pg_catalog.=) 'G'
	OR t.typtype OPERATOR(pg_catalog.=) 'b' AND t.typnamespace OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.regnamespace
ORDER BY t.oid LIMIT 1;
END;
-- +goose StatementEnd

-- declared_type is the type named typ, as a column's declaration names it (see model_problems' types), NULL if the
-- database has none: an unqualified name (no schema before it, an array's [] aside) resolves as PostgreSQL
-- resolved it when the schema files ran, in pg_catalog first, else in public, whichever release added it to
-- pg_catalog.
CREATE OR REPLACE FUNCTION {{.S}}.declared_type(typ text) RETURNS regtype LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN pg_catalog.cardinality(pg_catalog.parse_ident(typ, false)) OPERATOR(pg_catalog.=) 1
	THEN COALESCE(pg_catalog.to_regtype('pg_catalog.' OPERATOR(pg_catalog.||) typ), pg_catalog.to_regtype('public.' OPERATOR(pg_catalog.||) typ))
	ELSE pg_catalog.to_regtype(typ) END;

-- model_problems is what the models' tables lack that installing their triggers requires: one row per problem,
-- (what, fix), table by table, each step of a patient path after the first table that follows it. models is the
-- generated Models.Tables as JSON ([{"name", "columns", "refs": [{"from", "column", "to"}], "by_text", "types": {column: type},
-- "exact", "by_length", "float_digits"}], each type schema-qualified or not as the schema files name it, see below;
-- see auditschema.Table), owner_role and
-- app_role the roles the tables must be owned by and granted to. InstallModels runs it, and check_models.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.model_problems(models jsonb, owner_role text, app_role text) RETURNS TABLE (what text, fix text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
WITH t(i, name, cols, by_text, types, exact, by_length, float_digits) AS (
	SELECT m.k, m.v OPERATOR(pg_catalog.->>) 'name', ARRAY(SELECT pg_catalog.jsonb_array_elements_text(m.v OPERATOR(pg_catalog.->) 'columns')),
		ARRAY(SELECT pg_catalog.jsonb_array_elements_text(COALESCE(m.v OPERATOR(pg_catalog.->) 'by_text', '[]'))),
		COALESCE(m.v OPERATOR(pg_catalog.->) 'types', '{}'),
		ARRAY(SELECT pg_catalog.jsonb_array_elements_text(COALESCE(m.v OPERATOR(pg_catalog.->) 'exact', '[]'))),
		ARRAY(SELECT pg_catalog.jsonb_array_elements_text(COALESCE(m.v OPERATOR(pg_catalog.->) 'by_length', '[]'))),
		COALESCE((m.v OPERATOR(pg_catalog.->>) 'float_digits')::boolean, false)
	FROM pg_catalog.jsonb_array_elements(models) WITH ORDINALITY m(v, k)
), ref(i, j, src, col, dst) AS (
	-- A step shared by several tables' paths is checked once, with the first of them.
	SELECT DISTINCT ON (r.src, r.col, r.dst) r.i, r.j, r.src, r.col, r.dst
	FROM (SELECT m.k, r.k, r.v OPERATOR(pg_catalog.->>) 'from', r.v OPERATOR(pg_catalog.->>) 'column', r.v OPERATOR(pg_catalog.->>) 'to'
		FROM pg_catalog.jsonb_array_elements(models) WITH ORDINALITY m(v, k),
			pg_catalog.jsonb_array_elements(COALESCE(m.v OPERATOR(pg_catalog.->) 'refs', '[]')) WITH ORDINALITY r(v, k)) r(i, j, src, col, dst)
	ORDER BY r.src, r.col, r.dst, r.i, r.j
), n(owner, app) AS (SELECT owner_role, app_role),
c AS (SELECT t.*, k.oid, k.relowner FROM t LEFT JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t.name))
SELECT p.what, p.fix FROM (
	SELECT c.i, 0, 0, pg_catalog.format('table %s does not exist', c.name), 'run the migrations that create it before installing the models'
	FROM c WHERE c.oid IS NULL
	UNION ALL
	SELECT c.i, 1, 0, pg_catalog.format('table %s has columns its model does not declare: %s', c.name, pg_catalog.string_agg(a.attname::text, ', ' ORDER BY a.attnum)),
		'declare them in the model (untagged, or audit:"exclude", "redact" or "nonphi"), regenerate the repositories and install those'
	FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	WHERE a.attname::text OPERATOR(pg_catalog.<>) ALL (c.cols)
	GROUP BY c.i, c.name
	UNION ALL
	SELECT c.i, 2, 0, pg_catalog.format('table %s lacks columns its model declares: %s', c.name, pg_catalog.string_agg(m.col, ', ' ORDER BY m.k)),
		'run the migrations the repositories were generated from, or regenerate them from this schema'
	FROM c CROSS JOIN LATERAL pg_catalog.unnest(c.cols) WITH ORDINALITY m(col, k)
	WHERE c.oid IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
		AND a.attname::text OPERATOR(pg_catalog.=) m.col AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
	GROUP BY c.i, c.name
	UNION ALL
	-- The audit triggers compare and print each column by the type the generator read from the schema files: of
	-- another type (a hotfix's ALTER COLUMN TYPE, a schema file misread), a float's or a citext's or a char's change
	-- could write no audit row. A column whose declaration the generator did not read is not in types. A type is
	-- named as the declaration names it (see declared_type).
	SELECT c.i, 2, a.attnum, pg_catalog.format('table %s has column %s of type %s, which the schema the models were generated from declares of type %s',
			c.name, pg_catalog.quote_ident(a.attname), a.atttypid::pg_catalog.regtype, CASE WHEN d.oid IS NULL THEN d.typ OPERATOR(pg_catalog.||) ', a type the database does not have'
				ELSE d.oid::text OPERATOR(pg_catalog.||) ': the audit triggers would compare and print it as that type' END),
		'regenerate from the schema the database has: the generator compares and prints the column by its type'
	FROM c CROSS JOIN LATERAL pg_catalog.jsonb_each_text(c.types) y(col, typ)
	CROSS JOIN LATERAL (SELECT y.typ, {{.S}}.declared_type(y.typ)) d(typ, oid)
	JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname::text OPERATOR(pg_catalog.=) y.col
		AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	WHERE d.oid IS NULL OR d.oid::pg_catalog.oid OPERATOR(pg_catalog.<>) a.atttypid
	UNION ALL
	-- The generator's verdicts on how the triggers compare and print a column (auditschema.Table's Exact, ByLength,
	-- FloatDigits), which it made from the type the schema files declare, against the database's type, seen through
	-- domains (and arrays, but for char's padding): where the declared type's name is not the database's type, the
	-- problem above names it instead. A schema file run another way than the generator read it (a schema renamed
	-- onto another's, a search_path) may give a column, under its declared name, a type whose equality or text is
	-- not what the generator took it for.
	SELECT c.i, 2, a.attnum, v.what, v.fix
	FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		AND a.attname::text OPERATOR(pg_catalog.=) ANY (c.cols)
	CROSS JOIN LATERAL {{.S}}.base_type(a.atttypid, a.atttypmod) b
	JOIN pg_catalog.pg_type bt ON bt.oid OPERATOR(pg_catalog.=) b.base
	CROSS JOIN LATERAL (SELECT CASE WHEN b.base OPERATOR(pg_catalog.=) a.atttypid THEN a.atttypid::pg_catalog.regtype::text
		ELSE pg_catalog.format('%s (over %s)', a.atttypid::pg_catalog.regtype, b.base::pg_catalog.regtype) END) y(typ)
	CROSS JOIN LATERAL (
		-- A column compared by equality alone: of a string type but text, varchar, char (bpchar), name and "char",
		-- or of a type the generator took for one of those or an enum but is none, its equality may hold values that
		-- differ (citext's ignores case).
		SELECT pg_catalog.format('table %s has column %s of type %s, which the audit triggers compare by equality alone, the generator having read its declared type as %s: the equality of %s may hold values that differ (citext''s ''Ann'' = ''ann'', numeric''s 1.0 = 1.00, an unbounded char array''s ''{a}'' = ''{"a  "}''), and a change between them would write no audit row',
				c.name, pg_catalog.quote_ident(a.attname), y.typ,
				CASE WHEN a.attname::text OPERATOR(pg_catalog.=) ANY (c.exact) THEN 'one whose equality is exact (text, varchar or char with no COLLATE clause, or an enum)' ELSE 'no string type' END,
				b.base::pg_catalog.regtype),
			'regenerate from the schema the database has (the generator compares a column of a type whose equality may hold values that differ by its text too), or declare the column''s type in the schema files as the database has it'
		WHERE (a.attname::text OPERATOR(pg_catalog.=) ANY (c.exact)
				OR a.attname::text OPERATOR(pg_catalog.<>) ALL (c.by_text) AND bt.typcategory OPERATOR(pg_catalog.=) 'S')
			AND bt.typtype OPERATOR(pg_catalog.<>) 'e'
			AND (b.base OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype,
				'pg_catalog.bpchar'::pg_catalog.regtype, 'pg_catalog.name'::pg_catalog.regtype, 'pg_catalog."char"'::pg_catalog.regtype]::pg_catalog.oid[])
				-- An array of unbounded char: its equality drops its elements' trailing spaces ('{a}' = '{"a  "}'),
				-- which no length comparison of the array catches (the padding problem below is the unarrayed one's).
				OR b.base OPERATOR(pg_catalog.=) 'pg_catalog.bpchar'::pg_catalog.regtype AND b.arr AND b.base_typmod OPERATOR(pg_catalog.<) 0)
		UNION ALL
		-- An unbounded char (bpchar) keeps the trailing spaces of what is stored ('a' and 'a  '), which its equality
		-- and text drop; char(n) pads every value to its length. (An array's text keeps them.)
		SELECT pg_catalog.format('table %s has column %s of type %s, a char (bpchar) with no length, whose equality and text drop trailing spaces that its values keep: the generator did not read its declared type as char, so the audit triggers do not compare its length, and a change of trailing spaces alone (''a'' to ''a  '') would write no audit row',
				c.name, pg_catalog.quote_ident(a.attname), y.typ),
			'declare the column of type bpchar or char in the schema files (not through a domain) and regenerate, or give its type a length (char(n) pads its values to it)'
		WHERE b.base OPERATOR(pg_catalog.=) 'pg_catalog.bpchar'::pg_catalog.regtype AND NOT b.arr AND b.base_typmod OPERATOR(pg_catalog.<) 0
			AND a.attname::text OPERATOR(pg_catalog.<>) ALL (c.by_length)
		UNION ALL
		-- A float's text follows extra_float_digits, which only a trigger of a table the generator read a column
		-- that may print floats of pins (see float_type).
		SELECT pg_catalog.format('table %s has column %s of type %s, which may print floats (of type %s), but the generator read no column of the table as of a type that may: its audit trigger does not pin extra_float_digits, and a session that lowers it would round the floats in the audit rows'' images and hide changes found on their text',
				c.name, pg_catalog.quote_ident(a.attname), y.typ, f.typ),
			'regenerate from the schema the database has (the trigger of a table with a column that may print floats pins extra_float_digits), or declare the column''s type in the schema files as the database has it'
		FROM (SELECT {{.S}}.float_type(a.atttypid) WHERE NOT c.float_digits) f(typ) WHERE f.typ IS NOT NULL
	) v(what, fix)
	WHERE c.types OPERATOR(pg_catalog.->>) a.attname::text IS NULL
		OR {{.S}}.declared_type(c.types OPERATOR(pg_catalog.->>) a.attname::text)::pg_catalog.oid OPERATOR(pg_catalog.=) a.atttypid
	UNION ALL
	-- The triggers pair a row's old and new versions by id (see id_key_problems).
	SELECT c.i, 3, 0, k.what, k.fix FROM c CROSS JOIN LATERAL {{.S}}.id_key_problems(c.oid, c.name) k
	UNION ALL
	-- The audit triggers are statement triggers on this table: a statement on a parent or a child (a partition
	-- included) fires none of them, and its changes to this table's rows would leave no row.
	SELECT c.i, 4, 0, pg_catalog.format('table %s takes part in inheritance or partitioning (with %s): writes through those tables would fire none of its audit triggers',
			c.name, pg_catalog.string_agg(h.oid::pg_catalog.regclass::text, ', ' ORDER BY h.oid::pg_catalog.regclass::text)),
		'audit a table that neither inherits nor is inherited from, nor is partitioned or a partition'
	FROM c JOIN pg_catalog.pg_inherits x ON c.oid IN (x.inhrelid, x.inhparent)
	JOIN pg_catalog.pg_class h ON h.oid OPERATOR(pg_catalog.=) CASE WHEN x.inhrelid OPERATOR(pg_catalog.=) c.oid THEN x.inhparent ELSE x.inhrelid END
	GROUP BY c.i, c.name
	UNION ALL
	SELECT c.i, 5, 0, pg_catalog.format('table %s is owned by %s, not %s', c.name, pg_catalog.pg_get_userbyid(c.relowner), n.owner),
		pg_catalog.format('ALTER TABLE %s OWNER TO "%s";', c.name, pg_catalog.replace(n.owner, '"', '""'))
	FROM c, n WHERE c.oid IS NOT NULL AND pg_catalog.pg_get_userbyid(c.relowner) OPERATOR(pg_catalog.<>) n.owner
	UNION ALL
	SELECT c.i, 6, 0, pg_catalog.format('role %s lacks %s on %s', n.app, g.privs, c.name),
		pg_catalog.format('GRANT %s ON %s TO "%s";', g.privs, c.name, pg_catalog.replace(n.app, '"', '""'))
	FROM c, n, LATERAL (SELECT pg_catalog.string_agg(u.p, ', ' ORDER BY u.k)
		FROM pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY u(p, k)
		WHERE CASE WHEN n.app IS NULL THEN false ELSE NOT pg_catalog.has_table_privilege(n.app, c.oid, u.p) END) g(privs)
	WHERE c.oid IS NOT NULL AND g.privs IS NOT NULL
	UNION ALL
	-- A column compared by equality alone: a nondeterministic collation's equality holds texts that differ
	-- ('HIV+' and 'HIV-' under some), whose change would then write no audit row.
	SELECT c.i, 9, 0, pg_catalog.format('table %s has columns of a nondeterministic collation that its model compares by equality alone, so a change between texts equal under it would write no audit row: %s',
			c.name, pg_catalog.string_agg(pg_catalog.format('%s (%s)', a.attname, l.collname), ', ' ORDER BY a.attnum)),
		'declare the collation in the schema sqlc reads (the generator then compares those columns byte for byte too) and regenerate, or give them a deterministic collation'
	FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_collation l ON l.oid OPERATOR(pg_catalog.=) a.attcollation
	WHERE a.attname::text OPERATOR(pg_catalog.<>) ALL (c.by_text) AND NOT l.collisdeterministic
	GROUP BY c.i, c.name
	UNION ALL
	-- The trigger functions read the models' tables by name, as the writer role (see foreign_code).
	SELECT c.i, 8, 0, pg_catalog.format('table %s has an index, statistics or constraint using %s, which is no superuser: planning the audit triggers'' reads of %s would run its code as the writer role',
			c.name, f.code, c.name),
		'drop those indexes, statistics and constraints, or have a superuser own what they use'
	FROM c CROSS JOIN LATERAL (SELECT {{.S}}.foreign_code(c.oid)) f(code) WHERE f.code IS NOT NULL
	UNION ALL
	-- The audit triggers print values by to_jsonb and compare some by ::text, which look casts up by type: a cast's
	-- function runs in them as the writer role, so a role that owns one could act as the writer role.
	SELECT -1, 0, k.oid::integer, pg_catalog.format('the cast from %s to %s runs function %s, owned by %s, which is no superuser: the audit triggers look casts up by type and would run it as the writer role',
			k.castsource::pg_catalog.regtype, k.casttarget::pg_catalog.regtype, k.castfunc::pg_catalog.regprocedure, o.rolname),
		pg_catalog.format('DROP CAST (%s AS %s); (or have a superuser own %s)', k.castsource::pg_catalog.regtype, k.casttarget::pg_catalog.regtype, k.castfunc::pg_catalog.regprocedure)
	FROM pg_catalog.pg_cast k JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) k.castfunc JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) f.proowner
	WHERE NOT o.rolsuper
	UNION ALL
	-- A table of a composite type has its columns changed by the type's ALTER TYPE ... CASCADE, which names no table.
	SELECT c.i, 11, 0, pg_catalog.format('table %s is a table of composite type %s, whose ALTER TYPE ... CASCADE would change its columns with no command on the table', c.name, r.reloftype::pg_catalog.regtype),
		pg_catalog.format('ALTER TABLE %s NOT OF;', c.name)
	FROM c JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) c.oid WHERE r.reloftype OPERATOR(pg_catalog.<>) 0
	UNION ALL
	-- Writing a table takes USAGE on its schema, for the application and for the owner, as whom PostgreSQL checks
	-- its foreign keys.
	SELECT c.i, 10, 0, pg_catalog.format('role %s lacks USAGE on schema %s of table %s', g.role, k.nspname, c.name),
		pg_catalog.format('GRANT USAGE ON SCHEMA "%s" TO "%s";', pg_catalog.replace(k.nspname, '"', '""'), pg_catalog.replace(g.role, '"', '""'))
	FROM c JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) c.oid JOIN pg_catalog.pg_namespace k ON k.oid OPERATOR(pg_catalog.=) r.relnamespace
	CROSS JOIN n CROSS JOIN LATERAL (VALUES (n.owner), (n.app)) g(role)
	WHERE g.role IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) g.role)
		AND NOT pg_catalog.has_schema_privilege(g.role, k.oid, 'USAGE')
	UNION ALL
	-- A step of a patient path (see ref_problems).
	SELECT r.i, 7, r.j, k.what, k.fix FROM ref r CROSS JOIN LATERAL {{.S}}.ref_problems(r.src, r.col, r.dst) k
) p(i, part, j, what, fix)
ORDER BY p.i, p.part, p.j, p.what;
END;
-- +goose StatementEnd

-- grantees are the roles f's owner granted EXECUTE on it: the owner and application roles are told by their grants
-- of maintain() and claim().
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.grantees(f regprocedure) RETURNS SETOF text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
SELECT r.rolname::text FROM pg_proc p, aclexplode(p.proacl) x JOIN pg_roles r ON r.oid = x.grantee
	WHERE p.oid = f AND x.privilege_type = 'EXECUTE' AND x.grantee <> p.proowner;
END;
-- +goose StatementEnd

-- check_models refuses installing the triggers of models (as model_problems reads them), generated for the schema
-- of revision (schema_version.revision), naming each problem and its fix, unless the schema is of that revision
-- and their tables are ready. The owner and application roles are those granted maintain() and
-- claim(): the generated Models.SQL runs it before it installs anything, for installs that run that alone. InstallModels, which has
-- checked against the roles its Config names, marks its transaction so that this does not check again.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.check_models(revision text, models jsonb) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	owner_role text;
	app_role text;
	problem record;
	bad text;
BEGIN
	-- Read through to_jsonb: a schema_version from before revisions were recorded has no such column.
	IF (SELECT pg_catalog.to_jsonb(v) ->> 'revision' FROM {{.S}}.schema_version v ORDER BY v.version DESC LIMIT 1) IS DISTINCT FROM check_models.revision THEN
		RAISE EXCEPTION 'audit schema % was installed by another revision of schema version 1 of github.com/auditrepo/auditrepo than the one that generated these models: that version is not released yet, and there is no upgrade path between unreleased revisions; nothing was installed', {{lit .Schema}}
			USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'Generate with the revision that installed the schema; or install this revision''s schema (auditrepo schema prints it) into a fresh database, or after DROP SCHEMA IF EXISTS {{.S}}, {{.CS}} CASCADE, as a superuser in one transaction (the trail, its seals and the audited tables'' triggers go with the schema: export what you keep first).';
	END IF;
	IF pg_catalog.current_setting('auditrepo.models_checked', true) = 'on' THEN
		RETURN;
	END IF;
	-- The one role granted EXECUTE on each, NULL if none or several are.
	SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(g) END INTO owner_role FROM {{.S}}.grantees({{lit (print .S ".maintain(integer)")}}) g;
	SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(g) END INTO app_role FROM {{.S}}.grantees({{lit (print .CS ".claim(text, text, text)")}}) g;
	IF owner_role IS NULL OR app_role IS NULL THEN
		RAISE EXCEPTION 'the audited tables are not ready; nothing was installed: the owner and application roles cannot be told from the audit schema''s grants: EXECUTE on maintain() and on claim() must each be granted to one role, the owner''s and the application''s'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'GRANT EXECUTE ON FUNCTION maintain(integer) to the owner role alone and claim(text, text, text) to the application role alone, as the audit schema''s SQL does; or install with auditschema.InstallModels, given the names.';
	END IF;
	FOR problem IN SELECT * FROM {{.S}}.model_problems(models, owner_role, app_role) LOOP
		bad := pg_catalog.concat_ws(E'\n', bad, pg_catalog.format('  - %s; fix: %s', problem.what, problem.fix));
	END LOOP;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION E'the audited tables are not ready; nothing was installed:\n%', bad USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
END
$ar$;
-- +goose StatementEnd

-- relation_name is rel's name as the generated SQL writes it, schema-qualified (audited_tables.name and reads).
CREATE OR REPLACE FUNCTION {{.S}}.relation_name(rel oid) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel);

-- relation_layout is what a trigger function depends on of its table's columns: each one's position, name, type,
-- type modifier and collation (audited_tables.layout).
CREATE OR REPLACE FUNCTION {{.S}}.relation_layout(rel oid) RETURNS text[] LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN ARRAY(SELECT format('%s %I %s %s %s', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attcollation)
	FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum);

-- grant_claim lets the roles that may call claim() call f, a table's claim function (the generated SQL creates one
-- with the table's triggers).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.grant_claim(f regprocedure) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	grantee text;
BEGIN
	EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	FOR grantee IN SELECT g FROM {{.S}}.grantees({{lit (print .CS ".claim(text, text, text)")}}) g LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, grantee);
	END LOOP;
END
$ar$;
-- +goose StatementEnd
{{- end -}}

{{- define "model_checks" -}}
-- Installing these triggers requires the audit schema's revision they were generated for, and of their tables what
-- auditschema.InstallModels checks first: for installs that run this SQL alone, check_models refuses, naming the fix.
PERFORM {{.S}}.check_models({{lit .Revision}}, {{lit .Models}});
{{- end -}}
