-- The event trigger that records DDL on audited tables, on the audit schema and on the claim functions' in
-- {{.S}}.ddl_log, so that what the owner of the tables can do to their audit triggers (DISABLE, DROP, CREATE OR
-- REPLACE) leaves a row the owner cannot remove; and every command of a role that is no superuser, as code it makes
-- anywhere may run inside audited writes. Event triggers need a superuser; Install skips this part otherwise and
-- says so in its Report (EventTrigger false; cmd/migrate prints it).

-- audited_types are the types the audited tables' columns are of, and those these are made of (elements, bases,
-- range subtypes, composites' fields): what the audit triggers print and compare.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.audited_types() RETURNS SETOF oid LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp AS $ar$
WITH RECURSIVE ty(oid) AS (
	SELECT a.atttypid FROM pg_attribute a JOIN {{.S}}.audited_tables t ON a.attrelid = t.tbl
	WHERE a.attnum > 0 AND NOT a.attisdropped
	UNION
	SELECT s.part FROM ty JOIN pg_type p ON p.oid = ty.oid
	CROSS JOIN LATERAL (SELECT p.typelem UNION ALL SELECT p.typbasetype
		UNION ALL SELECT g.rngsubtype FROM pg_range g WHERE g.rngtypid = p.oid
		UNION ALL SELECT g.rngtypid FROM pg_range g WHERE g.rngmultitypid = p.oid
		UNION ALL SELECT f.atttypid FROM pg_attribute f WHERE f.attrelid = p.typrelid AND f.attnum > 0 AND NOT f.attisdropped) s(part)
	WHERE s.part <> 0
)
SELECT oid FROM ty
$ar$;
-- +goose StatementEnd

-- note_enums keeps, before an ALTER TYPE, the labels of the enums audited columns are of: record_ddl compares
-- them after it, to refuse RENAME VALUE, which would change every row holding the value with no audit row.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.note_enums() RETURNS event_trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	PERFORM set_config('auditrepo.enum_labels', (SELECT coalesce(jsonb_object_agg(e.oid::text, e.enumlabel), '{}')::text FROM pg_enum e
		WHERE e.enumtypid IN (SELECT {{.S}}.audited_types())), true);
END
$ar$;
-- +goose StatementEnd

-- refuse_rewrite refuses rewriting an audited table (ALTER COLUMN ... TYPE, USING included; a column added with a
-- volatile default): the rewrite changes its rows with no audit row, as no trigger fires for it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.refuse_rewrite() RETURNS event_trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	name text;
BEGIN
	SELECT a.name INTO name FROM {{.S}}.audited_tables a WHERE a.tbl = pg_event_trigger_table_rewrite_oid();
	IF FOUND THEN
		RAISE EXCEPTION '% refused: it rewrites audited table %, whose rows would change with no audit row', TG_TAG, name
			USING ERRCODE = 'feature_not_supported',
			HINT = 'Change the rows with UPDATE statements; or drop the table''s audit triggers for the change (ddl_log records it), and install the models again after.';
	END IF;
END
$ar$;
-- +goose StatementEnd

-- refuse_writer_ddl refuses every command run as the writer role but CREATE FUNCTION and REVOKE, and those only
-- while the writer may create in the audit schema: the models' install and stale() grant it that for their own
-- commands. That role owns the trigger functions, so that code of another role's reaching one (a cast's function,
-- say) runs as it, and may add audit rows and nothing more; but an owner may alter and drop its functions:
-- dropping one would drop its table's audit triggers, SECURITY INVOKER with a search_path of its choosing would
-- make it run a superuser's writes as the superuser, through functions the owner role put in public, and revoking
-- what it or the audit role may execute would stop audited writes and the install.
-- No SECURITY DEFINER: it runs as the role that runs the command, inside a trigger function too.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.refuse_writer_ddl() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	IF current_user = {{lit .Writer}} AND (TG_TAG NOT IN ('CREATE FUNCTION', 'REVOKE')
	   OR NOT has_schema_privilege({{lit .Writer}}, {{lit .Schema}}, 'CREATE')) THEN
		RAISE EXCEPTION '% refused: % owns the audit trigger functions, and runs no command but those creating them', TG_TAG, current_user
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{.S}}.refuse_writer_ddl() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{.S}}.refuse_writer_ddl() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_writer")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_writer")}} ON ddl_command_start EXECUTE FUNCTION {{.S}}.refuse_writer_ddl();

-- stale replaces f, an audited table's trigger function, by one refusing every write, saying why: record_ddl calls
-- it when the columns of the table, or of one it reads, change, or one it reads is dropped. It is the writer role's,
-- which owns the trigger functions, and only the audit role, record_ddl_as's owner, may call it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.stale(f regprocedure, why text) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	EXECUTE format($f$CREATE OR REPLACE FUNCTION %s RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS %L$f$, f,
		format($b$BEGIN
	RAISE EXCEPTION %L USING ERRCODE = 'object_not_in_prerequisite_state', HINT = %L;
END$b$, replace(why, '%', '%%'), 'Regenerate the repositories from the migrated schema and install them (repo.Install).'));
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{.S}}.stale(regprocedure, text) OWNER TO {{ident .Writer}};
REVOKE ALL ON FUNCTION {{.S}}.stale(regprocedure, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{.S}}.stale(regprocedure, text) TO {{ident .Audit}};

-- record_ddl_as records and checks the command whose event trigger fired (event, tag), run as acting: what
-- record_ddl, the event trigger function, does, as the audit role, which alone may write ddl_log. Every role's
-- commands call it, so every role may; called outside an event trigger it fails (pg_event_trigger_ddl_commands and
-- pg_event_trigger_dropped_objects refuse), and code run inside a command of its own (a default, a CHECK) can at
-- most add rows, naming any role, about the commands collected so far: the command's own row is written at its end,
-- as the role it runs as. It is alone in a schema of its own (with models_installed, below), which every role may
-- look up: the audit schema's names stay hidden from roles that are none of its (a PREPARE of a SELECT locks the
-- table it names before any privilege is checked: any login could keep maintain() from adding partitions).
CREATE SCHEMA IF NOT EXISTS {{ident .EventTrigger}} AUTHORIZATION {{ident .Audit}};
-- +goose StatementBegin
DO $ar$
BEGIN
	IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) {{lit .EventTrigger}})
	   OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) {{lit .Audit}}) THEN
		RAISE EXCEPTION 'schema % exists and is not %''s: the event trigger''s function would be put where another role may change it', {{lit .EventTrigger}}, {{lit .Audit}}
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END
$ar$;
-- +goose StatementEnd
REVOKE ALL ON SCHEMA {{ident .EventTrigger}} FROM PUBLIC;
GRANT USAGE ON SCHEMA {{ident .EventTrigger}} TO PUBLIC;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{ident .EventTrigger}}.record_ddl_as(event text, tag text, acting name) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	r record;
	audited text;
	target oid;
	model record;
	read boolean;
	changed text;
	creates boolean;
	-- The trigger functions to replace by ones refusing every write (stale), each with why, at the end of a command.
	stubs regprocedure[] := '{}';
	whys text[] := '{}';
	-- The audited tables, by name, whose readers (the trigger functions reading them by name: reads) are made stale
	-- at the end of the command, each with what happened to it; and the relations whose id keys and patient path
	-- steps are checked then: those it changed, or dropped a constraint or index of.
	gone text[] := '{}';
	gone_why text[] := '{}';
	touched oid[] := '{}';
	dropped text;
	problem record;
	-- Whether a superuser runs the command: every command of another role is recorded.
	by_super boolean := coalesce((SELECT o.rolsuper FROM pg_roles o WHERE o.rolname = acting), false);
	-- The statement, current_query(), is the whole client message, whatever else it sends: kept only for a
	-- superuser or a member of the owner role, by session or acting role. A role that can change nothing still
	-- fires this (the application's GRANT on a table, with no grant option, grants nothing), and could send an
	-- UPDATE of a field it may read but the trail excludes (a password) with it, for every reviewer to read here.
	keep_statement boolean := EXISTS (SELECT FROM pg_roles u WHERE u.rolname IN (session_user, acting)
		AND (u.rolsuper OR EXISTS (SELECT FROM pg_roles o WHERE o.rolname = {{lit .Owner}} AND pg_has_role(u.oid, o.oid, 'MEMBER'))));
BEGIN
	IF event = 'sql_drop' THEN
		FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
			-- Whatever a role that is no superuser drops is recorded, as its other commands are (see below).
			IF r.schema_name IN ({{lit .Schema}}, {{lit .ClaimSchema}}) OR r.objid IN (SELECT tbl FROM {{.S}}.audited_tables) OR NOT by_super
			   OR (r.object_type IN ('trigger', 'rule', 'policy')
			       AND EXISTS (SELECT FROM {{.S}}.audited_tables a WHERE r.object_identity LIKE '% on ' || a.tbl::text)) THEN
				INSERT INTO {{.S}}.ddl_log (acting_role, command_tag, object_type, object_identity, statement)
				VALUES (acting, tag, r.object_type, r.object_identity, CASE WHEN keep_statement THEN current_query() END);
			END IF;
			IF r.object_type = 'table' THEN
				-- The trigger functions that read it by name would read whatever relation takes the name next, which
				-- no audit trigger covers and installing has not checked (a copy of the owner's, its patients changed
				-- at will).
				DELETE FROM {{.S}}.audited_tables WHERE tbl = r.objid RETURNING name INTO dropped;
				IF FOUND THEN
					gone := gone || dropped;
					gone_why := gone_why || 'which was dropped'::text;
				END IF;
			ELSIF r.object_type = 'table constraint' THEN
				-- By the catalog, not to_regclass: that fails in a schema the audit role may not use, and would
				-- refuse every command dropping a constraint there.
				touched := touched || (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE n.nspname = r.address_names[1] AND c.relname = r.address_names[2]);
			ELSIF r.object_type = 'index' THEN
				-- A dropped index names no table: its schema's audited tables are checked.
				touched := touched || ARRAY(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE n.nspname = r.schema_name AND c.oid IN (SELECT a.tbl FROM {{.S}}.audited_tables a));
			END IF;
		END LOOP;
	ELSE
		-- An extension's objects go in the schema its command names, and PostgreSQL checks no privilege there when
		-- the extension is trusted (its script runs as the bootstrap superuser, for any role with CREATE on the
		-- database): in the audit schema, the claim functions' or this one, they would be objects of no role of
		-- theirs, which every install refuses (foreignSchema), and functions or operators standing by the names the
		-- schemas' own code, and the repository statements, call.
		IF tag IN ('CREATE EXTENSION', 'ALTER EXTENSION') THEN
			SELECT format('extension %I in schema %I', e.extname, n.nspname) INTO audited
			FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
			WHERE n.nspname IN ({{lit .Schema}}, {{lit .ClaimSchema}}, {{lit .EventTrigger}}) LIMIT 1;
			IF FOUND THEN
				RAISE EXCEPTION '% refused: it leaves %, where no object but the audit schema''s roles'' may be (the extension''s are the bootstrap superuser''s, which every install refuses)', tag, audited
					USING ERRCODE = 'insufficient_privilege', HINT = 'Create the extension in another schema (CREATE EXTENSION ... SCHEMA public).';
			END IF;
		END IF;
		FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
			-- The relation the command's object is, or belongs to: an index's or statistics' table, a trigger's,
			-- rule's or policy's, the table whose row type it is.
			target := CASE r.classid
				WHEN 'pg_class'::regclass THEN coalesce((SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = r.objid), r.objid)
				WHEN 'pg_statistic_ext'::regclass THEN (SELECT x.stxrelid FROM pg_statistic_ext x WHERE x.oid = r.objid)
				WHEN 'pg_type'::regclass THEN (SELECT nullif(t.typrelid, 0) FROM pg_type t WHERE t.oid = r.objid)
				WHEN 'pg_trigger'::regclass THEN (SELECT g.tgrelid FROM pg_trigger g WHERE g.oid = r.objid)
				WHEN 'pg_rewrite'::regclass THEN (SELECT w.ev_class FROM pg_rewrite w WHERE w.oid = r.objid)
				WHEN 'pg_policy'::regclass THEN (SELECT y.polrelid FROM pg_policy y WHERE y.oid = r.objid) END;
			SELECT a.tbl, a.func, a.name, a.layout INTO model FROM {{.S}}.audited_tables a WHERE a.tbl = target;
			touched := touched || target;
			-- A relation a trigger function reads by name: an audited table, or one of those named in reads.
			read := model.tbl IS NOT NULL
				OR coalesce({{.S}}.relation_name(target) IN (SELECT u.name FROM {{.S}}.audited_tables a, unnest(a.reads) u(name)), false);
			-- Every command of a role that is no superuser is recorded: code it creates or changes anywhere (a
			-- function, an operator, a trigger or view elsewhere) may run inside audited writes, a column default or a
			-- trigger of its own calling it, and then writes under the claim of the statement it runs in, which
			-- pg_depend does not tell. A superuser's commands are recorded where they touch what the audit depends on:
			-- triggers, rules and policies of audited tables depend on them; so does a rule elsewhere that writes
			-- one, and a policy on a table of the audit schema. A function a trigger of an audited table runs
			-- (CREATE OR REPLACE, ALTER FUNCTION) changes what its writes do, and so does a type an audited column
			-- is of (ALTER TYPE, ALTER DOMAIN). PostgreSQL names no object of a GRANT or REVOKE: every one on tables
			-- is recorded, with its statement (a TRIGGER privilege on an audited table would let another role add
			-- triggers to it).
			IF r.schema_name IN ({{lit .Schema}}, {{lit .ClaimSchema}}) OR read OR NOT by_super
			   OR (r.command_tag IN ('GRANT', 'REVOKE') AND r.object_type = 'TABLE')
			   OR EXISTS (SELECT FROM pg_depend d
			              WHERE d.classid = r.classid AND d.objid = r.objid AND d.refclassid = 'pg_class'::regclass
			                AND (d.refobjid IN (SELECT a.tbl FROM {{.S}}.audited_tables a)
			                     OR d.refobjid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = {{lit .Schema}}::regnamespace)))
			   OR (r.classid = 'pg_proc'::regclass
			       AND EXISTS (SELECT FROM pg_trigger g WHERE g.tgfoid = r.objid AND g.tgrelid IN (SELECT a.tbl FROM {{.S}}.audited_tables a)))
			   OR (r.classid = 'pg_type'::regclass AND r.objid IN (SELECT {{.S}}.audited_types()))
			   OR (r.classid = 'pg_namespace'::regclass AND EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = r.objid
			       AND c.oid IN (SELECT a.tbl FROM {{.S}}.audited_tables a))) THEN
				-- The state of an audited table's triggers after the command, and the functions they run: DDL run by
				-- EXECUTE in a DO block shows only as its statement, not as what it did to them.
				INSERT INTO {{.S}}.ddl_log (acting_role, command_tag, object_type, object_identity, statement, triggers)
				VALUES (acting, r.command_tag, r.object_type, r.object_identity, CASE WHEN keep_statement THEN current_query() END,
					(SELECT string_agg(g.tgname || CASE g.tgenabled WHEN 'D' THEN ' disabled' WHEN 'R' THEN ' enabled on replicas only' ELSE ' enabled' END
						|| ' (' || g.tgfoid::regproc::text || ')', ', ' ORDER BY g.tgname)
					 FROM pg_trigger g WHERE g.tgrelid = model.tbl AND NOT g.tgisinternal));
			END IF;
			-- The audit triggers are statement triggers of the audited tables: a statement on a table that
			-- inherits from one, that one inherits from, or that it is a partition of (ATTACH PARTITION) fires none
			-- of them, and its changes to the audited table's rows would leave no audit row. InstallModels refuses
			-- such tables; this refuses a command making one so later (which rolls it back, and its ddl_log row).
			IF r.classid = 'pg_class'::regclass THEN
				SELECT a.tbl::text INTO audited FROM pg_inherits i JOIN {{.S}}.audited_tables a ON a.tbl IN (i.inhrelid, i.inhparent)
				WHERE r.objid IN (i.inhrelid, i.inhparent) LIMIT 1;
				IF FOUND THEN
					RAISE EXCEPTION '% refused: audited table % may not inherit, be inherited from or be a partition: statements on the other tables would fire none of its audit triggers', tag, audited
						USING ERRCODE = 'feature_not_supported';
				END IF;
			END IF;
			-- An audit trigger runs its table's audit function: another, even one that looks the same in
			-- ddl_log, would write other rows or none.
			IF r.classid = 'pg_trigger'::regclass AND model.tbl IS NOT NULL THEN
				SELECT g.tgname INTO audited FROM pg_trigger g
				WHERE g.oid = r.objid AND g.tgname IN ('audit_insert', 'audit_update', 'audit_delete', 'audit_truncate')
					AND g.tgfoid <> CASE g.tgname WHEN 'audit_truncate' THEN {{lit (print .S ".refuse_truncate()")}}::regprocedure ELSE model.func END;
				IF FOUND THEN
					RAISE EXCEPTION '% refused: trigger % on audited table % must run %', tag, audited, model.tbl,
						CASE audited WHEN 'audit_truncate' THEN {{lit (print .S ".refuse_truncate()")}}::regprocedure ELSE model.func END
						USING ERRCODE = 'insufficient_privilege';
				END IF;
			END IF;
			-- The audit triggers print values by to_jsonb and compare some by ::text, which look casts up by type: a
			-- cast's function would run in them as the writer role. Only a superuser's function may be one.
			IF r.classid = 'pg_cast'::regclass OR r.classid = 'pg_proc'::regclass THEN
				SELECT pg_get_userbyid(p.proowner) INTO audited FROM pg_cast k JOIN pg_proc p ON p.oid = k.castfunc
				WHERE (k.oid = r.objid OR k.castfunc = r.objid) AND NOT (SELECT o.rolsuper FROM pg_roles o WHERE o.oid = p.proowner)
				LIMIT 1;
				IF FOUND THEN
					RAISE EXCEPTION '% refused: a cast''s function would be owned by %, no superuser: the audit triggers look casts up by type and would run it as the writer role', tag, audited
						USING ERRCODE = 'insufficient_privilege', HINT = 'Have a superuser create the cast and own its function.';
				END IF;
			END IF;
			-- The attributes of a composite type, or of a table's row type, dropped, added or renamed, change what
			-- every audited column of that type holds (PostgreSQL reports ALTER TYPE and ALTER TABLE alike on the
			-- relation), and no audit row could say so.
			IF r.classid = 'pg_class'::regclass
			   AND (SELECT c.reltype FROM pg_class c WHERE c.oid = r.objid) IN (SELECT {{.S}}.audited_types()) THEN
				RAISE EXCEPTION '% % refused: audited columns are of its row type, and changing it would change their rows with no audit row', r.command_tag, r.object_identity
					USING ERRCODE = 'feature_not_supported';
			END IF;
			-- An audited table keeps its name, whether the command renames or moves it, or its schema: its audit
			-- triggers, and those of the tables found through it, name it, and a relation taking the old name would
			-- be read in its place. One whose audit triggers were dropped first is audited no more: it leaves
			-- audited_tables, as a dropped one does, and the trigger functions reading it by its old name go stale.
			IF r.classid IN ('pg_class'::regclass, 'pg_namespace'::regclass) THEN
				FOR dropped IN DELETE FROM {{.S}}.audited_tables a
					WHERE {{.S}}.relation_name(a.tbl) <> a.name AND NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = a.tbl AND g.tgfoid = a.func)
					RETURNING a.name LOOP
					gone := gone || dropped;
					gone_why := gone_why || 'whose audit triggers were dropped and which was renamed'::text;
				END LOOP;
				SELECT format('%s (now %s)', a.name, {{.S}}.relation_name(a.tbl)) INTO audited FROM {{.S}}.audited_tables a
				WHERE {{.S}}.relation_name(a.tbl) <> a.name LIMIT 1;
				IF FOUND THEN
					RAISE EXCEPTION '% refused: it renames audited table %: its audit triggers, and those of the tables found through it, name it', tag, audited
						USING ERRCODE = 'feature_not_supported', HINT = 'Drop its audit triggers first (the audit triggers reading it then refuse writes), and install the models again after.';
				END IF;
			END IF;
			-- Renaming an enum's value changes every row holding it, and no audit row could say so.
			IF r.classid = 'pg_type'::regclass AND r.command_tag = 'ALTER TYPE' THEN
				SELECT s.value INTO audited FROM jsonb_each_text(coalesce(nullif(current_setting('auditrepo.enum_labels', true), ''), '{}')::jsonb) s
				JOIN pg_enum e ON e.oid = s.key::oid
				WHERE e.enumtypid = r.objid AND e.enumlabel <> s.value LIMIT 1;
				IF FOUND THEN
					RAISE EXCEPTION 'ALTER TYPE % refused: it renames value % of an enum audited columns are of, which would change their rows with no audit row', r.object_identity, audited
						USING ERRCODE = 'feature_not_supported', HINT = 'Add the new value, UPDATE the rows to it through the application, and stop using the old one.';
				END IF;
			END IF;
			-- The trigger functions read these relations by name, as the writer role: planning a read runs what the
			-- relation's owner may attach to it, so only a table, with no index, statistics or constraint using
			-- code of a role that is no superuser (foreign_code), may bear such a name.
			IF read THEN
				IF (SELECT c.relkind FROM pg_class c WHERE c.oid = target) <> 'r' THEN
					RAISE EXCEPTION '% refused: % is read by the audit trigger functions, which must read a table there, not a relation of kind %', tag,
						{{.S}}.relation_name(target), (SELECT c.relkind FROM pg_class c WHERE c.oid = target)
						USING ERRCODE = 'insufficient_privilege';
				END IF;
				audited := {{.S}}.foreign_code(target);
				-- CREATE INDEX CONCURRENTLY (a superuser's: refuse_concurrent_index refuses other roles') commits the
				-- index in transactions of its own before this runs (so it is older than this one): refusing it would
				-- undo this row and leave the index, invalid, for a REINDEX, which fires no event trigger, to make
				-- valid. It is recorded instead, and every audited table whose trigger function reads the table
				-- refuses writes until the models are installed again, which refuses the index.
				IF audited IS NOT NULL AND r.command_tag = 'CREATE INDEX'
				   AND (SELECT age(c.xmin) FROM pg_class c WHERE c.oid = r.objid) > 0 THEN
					SELECT stubs || array_agg(a.func), whys || array_agg(format('the audit triggers of %s are stale: an index of %s, made concurrently, uses %s, which is no superuser, and planning their reads would run it as the writer role: writes to %s are refused until the index is dropped and the models installed again',
						a.name, {{.S}}.relation_name(target), audited, a.name))
					INTO stubs, whys
					FROM {{.S}}.audited_tables a WHERE a.tbl = target OR {{.S}}.relation_name(target) = ANY (a.reads);
					RAISE WARNING '% of % could not be refused, as it was made concurrently: the audited tables whose audit triggers read it refuse writes until it is dropped and the models installed again', tag, {{.S}}.relation_name(target);
				ELSIF audited IS NOT NULL THEN
					RAISE EXCEPTION '% refused: an index, statistics or constraint of % uses %, which is no superuser: the audit trigger functions read %, and planning that runs its code as the writer role', tag,
						{{.S}}.relation_name(target), audited, {{.S}}.relation_name(target)
						USING ERRCODE = 'insufficient_privilege', HINT = 'Have a superuser own what it uses, or do without it on this table.';
				END IF;
				-- A table of a composite type (ALTER TABLE ... OF) has its columns changed by ALTER TYPE ... CASCADE,
				-- a command on the type that names no table.
				IF (SELECT c.reloftype FROM pg_class c WHERE c.oid = target) <> 0 THEN
					RAISE EXCEPTION '% refused: % is read by the audit trigger functions, and may not be a table of a composite type, whose ALTER TYPE would change its columns unseen', tag,
						{{.S}}.relation_name(target)
						USING ERRCODE = 'feature_not_supported', HINT = 'ALTER TABLE ... NOT OF';
				END IF;
			END IF;
			-- A table whose columns are no longer those its triggers were installed for (added, dropped, renamed,
			-- retyped, whatever the command): its audit function would miss a new one, print another in its place,
			-- or fail with its whole statement as the error. It is replaced by one refusing every write until the
			-- models are generated again from the table and installed (which replaces it back): by its owner, the
			-- writer role, given CREATE on this schema for that alone (replacing a function takes it). So are the
			-- trigger functions that read the table (reads): they read its columns by name too, and a column renamed
			-- away with another added under its name (appointments.patient_id) would file their rows under the new
			-- column's patient.
			IF model.tbl IS NOT NULL AND {{.S}}.relation_layout(model.tbl) IS DISTINCT FROM model.layout THEN
				SELECT string_agg(x.col, ', ' ORDER BY x.col) INTO changed
				FROM (SELECT split_part(coalesce(n.e, o.e), ' ', 2) AS col FROM unnest({{.S}}.relation_layout(model.tbl)) n(e)
					FULL JOIN unnest(model.layout) o(e) ON o.e = n.e WHERE n.e IS NULL OR o.e IS NULL) x;
				stubs := stubs || model.func;
				whys := whys || format('the audit triggers of %s are stale: its columns changed since they were installed (%s): writes to it are refused until they are installed again',
					model.name, changed);
				gone := gone || model.name::text;
				gone_why := gone_why || format('whose columns changed (%s)', changed);
			END IF;
		END LOOP;
	END IF;
	SELECT stubs || array_agg(a.func), whys || array_agg(format('the audit triggers of %s are stale: they read %s, %s since they were installed: writes to %s are refused until they are installed again',
		a.name, g.name, g.why, a.name))
	INTO stubs, whys
	FROM {{.S}}.audited_tables a, unnest(gone, gone_why) g(name, why) WHERE g.name = ANY (a.reads);
	-- What installing checked of the audited tables' id keys and of the foreign keys their patient paths follow,
	-- no command may take away (rolled back, and its ddl_log row): the triggers would pair other rows, or read a
	-- patient through a key a statement can re-key or defer, and file audit rows under the wrong patient with nothing
	-- stale. At sql_drop too, which fires at the end of the command, after all its subcommands: a key dropped and
	-- its replacement added in one ALTER TABLE pass. A table whose columns changed is left stale instead (its own
	-- trigger function, and those reading it), which installing again checks: dropping a path's column drops its key.
	-- A step is skipped for its source's columns alone: a stale destination leaves its sources writable.
	SELECT k.what, k.fix INTO problem FROM (
		SELECT 1 AS part, a.name AS tbl, k.what, k.fix
		FROM {{.S}}.audited_tables a CROSS JOIN LATERAL {{.S}}.id_key_problems(a.tbl, a.name) k
		WHERE a.tbl::oid = ANY (touched) AND {{.S}}.relation_layout(a.tbl) IS NOT DISTINCT FROM a.layout
		UNION ALL
		-- A step is checked while both its tables are audited under its names: a table dropped takes its steps out,
		-- and another may take its name, which installing the models again checks.
		SELECT 2, s.src, k.what, k.fix
		FROM (SELECT DISTINCT s.v ->> 'from' AS src, s.v ->> 'column' AS col, s.v ->> 'to' AS dst
			FROM {{.S}}.audited_tables a, jsonb_array_elements(a.refs) s(v)) s
		JOIN {{.S}}.audited_tables f ON f.tbl = to_regclass(s.src)
		JOIN {{.S}}.audited_tables t ON t.tbl = to_regclass(s.dst)
		CROSS JOIN LATERAL {{.S}}.ref_problems(s.src, s.col, s.dst) k
		WHERE (f.tbl::oid = ANY (touched) OR t.tbl::oid = ANY (touched))
			AND {{.S}}.relation_layout(f.tbl) IS NOT DISTINCT FROM f.layout
	) k ORDER BY k.part, k.tbl, k.what LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION '% refused: it breaks what installing the models requires: %', tag, problem.what
			USING ERRCODE = 'feature_not_supported',
			HINT = format('Leave the key as installing requires it (a key dropped and its replacement added in one ALTER TABLE pass). After this command, the fix would be: %s', problem.fix);
	END IF;
	IF cardinality(stubs) > 0 THEN
		-- Serialized with every other grant of CREATE to the writer (WriterGrantLock): a command on another
		-- audited table, in a transaction still open, would otherwise fail this one's GRANT (XX000); after it
		-- commits, the check below sees what it left.
		EXECUTE {{lit (writerGrantLock .Schema)}};
		creates := has_schema_privilege({{lit .Writer}}, {{lit .Schema}}, 'CREATE');
		IF NOT creates THEN
			EXECUTE format('GRANT CREATE ON SCHEMA %I TO %I', {{lit .Schema}}, {{lit .Writer}});
		END IF;
		FOR i IN 1 .. cardinality(stubs) LOOP
			PERFORM {{.S}}.stale(stubs[i], whys[i]);
		END LOOP;
		IF NOT creates THEN
			EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM %I', {{lit .Schema}}, {{lit .Writer}});
		END IF;
	END IF;
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{ident .EventTrigger}}.record_ddl_as(text, text, name) OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{ident .EventTrigger}}.record_ddl_as(text, text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{ident .EventTrigger}}.record_ddl_as(text, text, name) TO PUBLIC;

-- record_ddl is the event trigger function. No SECURITY DEFINER: it runs as the role that runs the command, which
-- current_user names whatever the session's user and SET ROLE's are (a function of the owner's, SECURITY DEFINER,
-- that a superuser's write fires runs its commands as the owner), and no code of another role's can change.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.record_ddl() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	PERFORM {{ident .EventTrigger}}.record_ddl_as(TG_EVENT, TG_TAG, current_user);
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{.S}}.record_ddl() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{.S}}.record_ddl() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_end")}};
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_drop")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_end")}} ON ddl_command_end EXECUTE FUNCTION {{.S}}.record_ddl();
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_drop")}} ON sql_drop EXECUTE FUNCTION {{.S}}.record_ddl();
ALTER FUNCTION {{.S}}.audited_types() OWNER TO {{ident .Audit}};
ALTER FUNCTION {{.S}}.note_enums() OWNER TO {{ident .Audit}};
ALTER FUNCTION {{.S}}.refuse_rewrite() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{.S}}.audited_types(), {{.S}}.note_enums(), {{.S}}.refuse_rewrite() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_rewrite")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_rewrite")}} ON table_rewrite EXECUTE FUNCTION {{.S}}.refuse_rewrite();
-- models_installed says whether any table is audited here, for refuse_concurrent_index, which runs as roles that
-- may not read audited_tables. That much pg_trigger tells every role already (the tables' audit_* triggers).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{ident .EventTrigger}}.models_installed() RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
SELECT EXISTS (SELECT FROM {{.S}}.audited_tables)
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{ident .EventTrigger}}.models_installed() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{ident .EventTrigger}}.models_installed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{ident .EventTrigger}}.models_installed() TO PUBLIC;

-- refuse_concurrent_index refuses CREATE INDEX CONCURRENTLY by a role that is no superuser where models are
-- installed. Its build runs after the index is committed: a build that fails there (on a row its expression raises
-- for) leaves the index, invalid, and no ddl_command_end fires to record it or make the audited tables reading its
-- table stale (record_ddl_as); a REINDEX, which fires no event trigger, then makes it valid, and the owner's code in
-- it runs as the writer role when their trigger functions plan their reads. At ddl_command_start PostgreSQL gives no
-- parse tree, so the command is told by its text: CIC runs in no transaction block, function or message of several
-- statements, so current_query() is its own text, where the keyword can be neither quoted nor escaped. A command
-- whose text merely holds the word (an index named concurrently_x) is refused too, with this message.
-- No SECURITY DEFINER: it runs as the role that runs the command, which current_user names.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.refuse_concurrent_index() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	IF strpos(lower(current_query()), 'concurrently') > 0
	   AND NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = current_user AND r.rolsuper)
	   AND {{ident .EventTrigger}}.models_installed() THEN
		RAISE EXCEPTION 'CREATE INDEX CONCURRENTLY refused: % is no superuser, and a concurrent build that fails leaves its index behind, invalid and unrecorded, for a REINDEX (which fires no event trigger) to make valid', current_user
			USING ERRCODE = 'insufficient_privilege', HINT = 'Run it without CONCURRENTLY, or as a superuser.';
	END IF;
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{.S}}.refuse_concurrent_index() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{.S}}.refuse_concurrent_index() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_concurrent")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_concurrent")}} ON ddl_command_start WHEN TAG IN ('CREATE INDEX')
	EXECUTE FUNCTION {{.S}}.refuse_concurrent_index();
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_start")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_start")}} ON ddl_command_start WHEN TAG IN ('ALTER TYPE')
	EXECUTE FUNCTION {{.S}}.note_enums();
