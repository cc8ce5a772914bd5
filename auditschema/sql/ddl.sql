-- The event trigger that records DDL on audited tables and on the audit schema in {{.S}}.ddl_log, so that what
-- the owner of the tables can do to their audit triggers (DISABLE, DROP, CREATE OR REPLACE) leaves a row the
-- owner cannot remove. Event triggers need a superuser; Install skips this part otherwise and says so in its Report
-- (EventTrigger false; cmd/migrate prints it).

-- A schema installed before ddl_log had its triggers column gets it, once: the event trigger records the ALTER
-- TABLE, which on every install would fill ddl_log.
-- +goose StatementBegin
DO $ar$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(pg_catalog.format('%I.ddl_log', {{lit .Schema}})) AND attname = 'triggers') THEN
		EXECUTE format('ALTER TABLE %I.ddl_log ADD COLUMN triggers text', {{lit .Schema}});
	END IF;
END
$ar$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION {{.S}}.record_ddl() RETURNS event_trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	r record;
	audited text;
BEGIN
	IF TG_EVENT = 'sql_drop' THEN
		FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
			IF r.schema_name = {{lit .Schema}} OR r.objid IN (SELECT tbl FROM {{.S}}.audited_tables)
			   OR (r.object_type IN ('trigger', 'rule', 'policy')
			       AND EXISTS (SELECT FROM {{.S}}.audited_tables a WHERE r.object_identity LIKE '% on ' || a.tbl::text)) THEN
				INSERT INTO {{.S}}.ddl_log (command_tag, object_type, object_identity, statement)
				VALUES (TG_TAG, r.object_type, r.object_identity, current_query());
			END IF;
		END LOOP;
	ELSE
		FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
			-- Triggers, rules and policies of audited tables depend on them; so does a rule elsewhere that writes
			-- one, and a policy on a table of the audit schema. A function a trigger of an audited table runs
			-- (CREATE OR REPLACE, ALTER FUNCTION) changes what its writes do. PostgreSQL names no object of a GRANT
			-- or REVOKE: every one on tables is recorded, with its statement (a TRIGGER privilege on an audited
			-- table would let another role add triggers to it).
			IF r.schema_name = {{lit .Schema}} OR r.objid IN (SELECT tbl FROM {{.S}}.audited_tables)
			   OR (r.command_tag IN ('GRANT', 'REVOKE') AND r.object_type = 'TABLE')
			   OR EXISTS (SELECT FROM pg_depend d
			              WHERE d.classid = r.classid AND d.objid = r.objid AND d.refclassid = 'pg_class'::regclass
			                AND (d.refobjid IN (SELECT tbl FROM {{.S}}.audited_tables)
			                     OR d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = {{lit .Schema}}::regnamespace)))
			   OR (r.classid = 'pg_proc'::regclass
			       AND EXISTS (SELECT FROM pg_trigger g WHERE g.tgfoid = r.objid AND g.tgrelid IN (SELECT tbl FROM {{.S}}.audited_tables))) THEN
				-- The state of an audited table's triggers after the command: DDL run by EXECUTE in a DO block shows
				-- only as its ALTER TABLE, not as what it did to them.
				INSERT INTO {{.S}}.ddl_log (command_tag, object_type, object_identity, statement, triggers)
				VALUES (r.command_tag, r.object_type, r.object_identity, current_query(),
					CASE WHEN r.objid IN (SELECT tbl FROM {{.S}}.audited_tables) THEN
						(SELECT string_agg(g.tgname || CASE g.tgenabled WHEN 'D' THEN ' disabled' WHEN 'R' THEN ' enabled on replicas only' ELSE ' enabled' END, ', ' ORDER BY g.tgname)
						 FROM pg_trigger g WHERE g.tgrelid = r.objid AND NOT g.tgisinternal) END);
			END IF;
			-- The audit triggers are statement triggers of the audited tables: a statement on a table that
			-- inherits from one, that one inherits from, or that it is a partition of (ATTACH PARTITION) fires none
			-- of them, and its changes to the audited table's rows would leave no audit row. InstallModels refuses
			-- such tables; this refuses a command making one so later (which rolls it back, and its ddl_log row).
			IF r.classid = 'pg_class'::regclass THEN
				SELECT a.tbl::text INTO audited FROM pg_inherits i JOIN {{.S}}.audited_tables a ON a.tbl IN (i.inhrelid, i.inhparent)
				WHERE r.objid IN (i.inhrelid, i.inhparent) LIMIT 1;
				IF FOUND THEN
					RAISE EXCEPTION '% refused: audited table % may not inherit, be inherited from or be a partition: statements on the other tables would fire none of its audit triggers', TG_TAG, audited
						USING ERRCODE = 'feature_not_supported';
				END IF;
			END IF;
		END LOOP;
	END IF;
END
$ar$;
-- +goose StatementEnd
ALTER FUNCTION {{.S}}.record_ddl() OWNER TO {{ident .Audit}};
REVOKE ALL ON FUNCTION {{.S}}.record_ddl() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_end")}};
DROP EVENT TRIGGER IF EXISTS {{ident (print .EventTrigger "_drop")}};
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_end")}} ON ddl_command_end EXECUTE FUNCTION {{.S}}.record_ddl();
CREATE EVENT TRIGGER {{ident (print .EventTrigger "_drop")}} ON sql_drop EXECUTE FUNCTION {{.S}}.record_ddl();
