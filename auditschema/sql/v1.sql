-- auditrepo audit schema, version 1. Rendered by package auditschema with the configured names; run in one
-- transaction by Install, or as a migration by `auditrepo schema`.
--
-- Roles (server-wide, created when missing):
--   {{.Audit}}     NOLOGIN, owns the audit schema, its tables and its functions but the trigger functions; nobody
--                  is a member (a superuser, or on PostgreSQL 15 a CREATEROLE login, could make itself one: see the
--                  README).
--   {{.Writer}}    NOLOGIN, owns the trigger functions (the models' SQL creates them): may add audit rows, not
--                  change, remove or read them; nobody is a member.
--   {{.Owner}}     NOLOGIN, owns the application's tables; the user running the migrations should be a member (Install
--                  does not make it one).
--   {{.App}}       LOGIN, the application: writes PHI tables, calls claim() (in {{.ClaimSchema}}, the one schema of
--                  the audit role's it may look up); no privilege on the audit schema or its tables.
--   {{.Reviewer}}  LOGIN, reads the trail.
--   {{.Sealer}}    LOGIN, reads the trail and appends seals (the sealing job's).

-- A superuser runs this: no function or operator another role put in a schema of the session's search_path (the
-- owner role may create in public) may stand in for a built-in, and run as the superuser. The search_path is
-- pinned for this SQL and given back at its end (a migration tool's own statements follow), for the session: a
-- transaction-local pin would hold for one statement where the SQL is run statement by statement (psql -f
-- without -1). Install, which pins it for its transaction, says so (auditrepo.pin_local): then so does this.
SELECT pg_catalog.set_config('auditrepo.search_path', pg_catalog.current_setting('search_path'), pg_catalog.current_setting('auditrepo.pin_local', true) IS NOT DISTINCT FROM 'on'),
	pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', pg_catalog.current_setting('auditrepo.pin_local', true) IS NOT DISTINCT FROM 'on');

-- +goose StatementBegin
DO $ar$
DECLARE
	role record;
	problem record;
	bad text;
	taken name;
BEGIN
	-- Refused before anything is granted (a CREATEROLE installer is made a member of the audit role below): run
	-- statement by statement (psql -f without -1), a failure after that grant would leave the membership behind,
	-- as CREATE SCHEMA's would. An audit schema installed already is Install's to find and keep; a schema of
	-- that name another role made first is no audit schema. So for the claim functions' schema, whose functions
	-- every repository statement calls.
	FOR taken IN SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname IN ({{lit .Schema}}, {{lit .ClaimSchema}}) ORDER BY n.nspname LOOP
		RAISE EXCEPTION 'schema % exists already, owned by %; nothing was installed', taken,
			(SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = taken)
			USING ERRCODE = 'duplicate_schema',
			HINT = pg_catalog.format('If this library installed it (then it is owned by %s), there is nothing to do: auditschema.Install finds it and changes nothing. Else, as a superuser, DROP SCHEMA IF EXISTS %I, %I CASCADE (see the README''s Upgrading: export first what you keep) and run this SQL again.',
				{{lit .Audit}}, {{lit .Schema}}, {{lit .ClaimSchema}});
	END LOOP;
	FOR role IN SELECT * FROM (VALUES ({{lit .Audit}}, false), ({{lit .Writer}}, false), ({{lit .Owner}}, false), ({{lit .App}}, true), ({{lit .Reviewer}}, true), ({{lit .Sealer}}, true)) AS v(name, login) LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role.name) THEN
			BEGIN
				EXECUTE pg_catalog.format('CREATE ROLE %I %s', role.name, CASE WHEN role.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL; -- created concurrently by another install
			END;
		END IF;
	END LOOP;
	-- What Install's own check refuses (role_problems); every role named exists by now.
	FOR problem IN {{template "role_problems" .}} LOOP
		bad := pg_catalog.concat_ws(E'\n', bad, pg_catalog.format('  - %s; fix: %s', problem.what, problem.fix));
	END LOOP;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION E'the audit schema\'s roles are not ready; nothing was installed:\n%', bad USING ERRCODE = 'insufficient_privilege';
	END IF;
	-- The trigger functions run as the writer role and read the audited tables to find a record's patient (an
	-- invoice's, through its appointment): row-level security that the tables' owner enables must not hide rows
	-- from them, or the audit rows would name no patient. Only a superuser may grant BYPASSRLS; a CREATEROLE
	-- installer leaves that gap, visible in ddl_log as the owner's ALTER TABLE ... ENABLE ROW LEVEL SECURITY.
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
	   AND NOT (SELECT rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = {{lit .Writer}}) THEN
		EXECUTE pg_catalog.format('ALTER ROLE %I BYPASSRLS', {{lit .Writer}});
	END IF;
END
$ar$;
-- +goose StatementEnd

{{template "database" .}}

-- +goose StatementBegin
DO $ar$
BEGIN
	-- A CREATEROLE installer becomes a member of the audit role for this transaction only (REVOKEd below).
	IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE pg_catalog.format('GRANT %I TO %I', {{lit .Audit}}, current_user);
	END IF;
END
$ar$;
-- +goose StatementEnd

CREATE SCHEMA {{.S}} AUTHORIZATION {{ident .Audit}};
-- Not to the application role: a role that may look a schema up can name its tables, and a PREPARE of a SELECT
-- there, in a transaction left open, locks one before any privilege is checked; a command PostgreSQL locks a table
-- for before it checks ownership (CREATE RULE, ACCESS EXCLUSIVE) then queues behind it, and every audited write
-- waits behind that. It calls the claim functions, in a schema of their own.
GRANT USAGE ON SCHEMA {{.S}} TO {{ident .Writer}}, {{ident .Owner}}, {{ident .Reviewer}}, {{ident .Sealer}};
-- The claim functions' schema: claim, claim_prefix, claim_field and the tables' claim functions (the models' SQL),
-- the audit role's. The application looks them up here. The writer role's trigger functions call claim_prefix and
-- claim_field only inlined, through actor(), whose SQL-standard body names them by OID: EXECUTE suffices.
CREATE SCHEMA {{.CS}} AUTHORIZATION {{ident .Audit}};
GRANT USAGE ON SCHEMA {{.CS}} TO {{ident .App}};
-- For the session, until the RESET below: run statement by statement (psql -f without -1), SET LOCAL would do
-- nothing, and what follows would be the installer's.
SET ROLE {{ident .Audit}};

-- Which version of this schema is installed, and exactly which SQL installed it: digest is the SHA-256 of this
-- SQL as rendered (its two digests left empty), revision the same with the default names. Until a version is
-- released its SQL changes with no upgrade from one revision to the next: Install and InstallModels refuse a
-- schema of another digest, the generated SQL, which knows only some of the names, one of another revision.
CREATE TABLE {{.S}}.schema_version (
	version     integer PRIMARY KEY,
	installed_at timestamptz NOT NULL DEFAULT now(),
	revision    text NOT NULL,
	digest      text NOT NULL
);
INSERT INTO {{.S}}.schema_version (version, revision, digest) VALUES (1, {{lit .Revision}}, {{lit .Digest}});

-- The values of an audit row's actor_kind and action. Domains rather than CHECK constraints of the table: every
-- statement that inserts reads and plans a table's constraints again (about 70k instructions per audited
-- statement here), a domain's once per session.
CREATE DOMAIN {{.S}}.audit_actor_kind AS text CHECK (VALUE IN ('user', 'system', 'unknown', 'unattributed'));
CREATE DOMAIN {{.S}}.audit_action AS text CHECK (VALUE IN ('CREATE', 'UPDATE', 'DELETE', 'MOVE'));

-- One row per audited change, written only by the generated trigger functions. The columns with defaults are
-- the server's facts: no caller supplies them.
CREATE TABLE {{.S}}.{{.T}} (
	id               bigint GENERATED ALWAYS AS IDENTITY,
	occurred_at      timestamptz NOT NULL DEFAULT now(),
	transaction_id   xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	db_role          text NOT NULL DEFAULT session_user,
	client_addr      inet DEFAULT pg_catalog.inet_client_addr(),
	application      text NOT NULL DEFAULT pg_catalog.current_setting('application_name'),
	actor_kind       {{.S}}.audit_actor_kind NOT NULL,
	actor_id         bigint,
	ip               inet,
	user_agent       text,
	request_id       text,
	method           text,
	action           {{.S}}.audit_action NOT NULL,
	target_table     text NOT NULL,
	target_id        bigint NOT NULL,
	patient_id       bigint,
	-- Set when a change moved the record away from this patient, so both patients' trails find it.
	prior_patient_id bigint,
	changes          jsonb NOT NULL,
	PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
-- Rows of a month with no partition land here; retention reports them (maintain() creates months ahead).
CREATE TABLE {{.S}}.{{ident (print .Table "_default")}} PARTITION OF {{.S}}.{{.T}} DEFAULT;
CREATE INDEX ON {{.S}}.{{.T}} (patient_id, occurred_at);
CREATE INDEX ON {{.S}}.{{.T}} (prior_patient_id, occurred_at) WHERE prior_patient_id IS NOT NULL;
CREATE INDEX ON {{.S}}.{{.T}} (target_table, target_id);

-- Append-only for everyone: rows are never updated or deleted (retention drops whole partitions).
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.refuse() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$ar$;
-- +goose StatementEnd
CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.{{.T}}
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- DDL on audited tables and on this schema, recorded by the event trigger where a superuser installed it.
CREATE TABLE {{.S}}.ddl_log (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	occurred_at     timestamptz NOT NULL DEFAULT now(),
	transaction_id  xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	db_role         text NOT NULL DEFAULT session_user,
	acting_role     text NOT NULL DEFAULT current_user,
	client_addr     inet DEFAULT pg_catalog.inet_client_addr(),
	command_tag     text NOT NULL,
	object_type     text,
	object_identity text,
	statement       text,
	-- For a command on an audited table, its triggers after it (the statement may be a DO block's, naming none).
	triggers        text
);
CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.ddl_log
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- The audited tables (InstallModels fills it), as their triggers were installed: the event trigger records DDL on
-- them, holds their audit triggers to func, refuses renaming them, refuses writes once their columns are no longer
-- those of layout (relation_layout), keeps the tables their trigger function reads by name (reads) tables, and
-- refuses a command that leaves them without what installing checked of their id key (id_key_problems) and of the
-- foreign keys of the steps their patient path follows (refs, as the models' SQL passes them to check_models:
-- [{"from", "column", "to"}]; ref_problems).
CREATE TABLE {{.S}}.audited_tables (
	tbl    regclass PRIMARY KEY,
	func   regprocedure NOT NULL,
	name   text NOT NULL,
	layout text[] NOT NULL,
	reads  text[] NOT NULL,
	refs   jsonb NOT NULL
);

-- A claim is the text of an auditrepo.claimed row, kept in the transaction-local setting auditrepo.claim: the
-- statement's start, the table and the method, written by claim(), then the actor's fields as the runtime formats
-- them. It binds to the statement being run and to one table by its start, claim_prefix(target): a triggered
-- function reads the setting as its statement's claim only when it starts so. The start is the statement's
-- timestamp in UTC, as text: unique to the statement (to the client's message, see the README), free of quotes
-- and backslashes whatever the session's DateStyle (a zone abbreviation in TimeZone may hold either).
CREATE TYPE {{.S}}.actor_kind AS ENUM ('user', 'system', 'unknown');
CREATE TYPE {{.S}}.claimed AS (made_at text, target text, method text, kind {{.S}}.actor_kind, actor_id bigint, ip inet,
	user_agent text, request_id text);
-- No other role may build on the audit schema's types: a column or function of its own would pin them against a
-- later upgrade. Casting to them and writing or reading the audit table's columns need no USAGE.
REVOKE USAGE ON TYPE {{.S}}.actor_kind, {{.S}}.claimed FROM PUBLIC;
REVOKE USAGE ON DOMAIN {{.S}}.audit_actor_kind, {{.S}}.audit_action FROM PUBLIC;

-- claim_field (in the claim functions' schema, as claim_prefix and claim) quotes s as a field of a row's text form,
-- which record_in reads back as s. Where s is a constant it is folded when the statement is planned: every caller
-- is an inlined SQL function given the table and method as constants.
CREATE FUNCTION {{.CS}}.claim_field(s text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '"' OPERATOR(pg_catalog.||) pg_catalog.replace(pg_catalog.replace(s, E'\\', E'\\\\'), '"', E'\\"') OPERATOR(pg_catalog.||) '"';

-- claim_prefix is how this statement's claim for target starts. No SET clause, every name qualified: it is
-- inlined where it is called (a SET clause would make it a function call costing 20 us), and its part after the
-- time, constant there, is folded.
CREATE FUNCTION {{.CS}}.claim_prefix(target text) RETURNS text LANGUAGE sql STABLE
RETURN '("' OPERATOR(pg_catalog.||) pg_catalog.timezone('UTC', pg_catalog.statement_timestamp())::text
	OPERATOR(pg_catalog.||) ('",' OPERATOR(pg_catalog.||) {{.CS}}.claim_field(target) OPERATOR(pg_catalog.||) ',');

-- claim is how a repository statement says who makes it: it stores the actor for this statement and this table
-- only. actor is the rest of an auditrepo.claimed row's text after the method: the kind, user id, IP, user agent
-- and request id, then ")" (package audit formats it). The trigger functions read it; any other value of the
-- setting, stale, foreign or forged, gives an 'unattributed' row, never silence; one made in this statement's
-- place that is no claimed row, or names a kind other than user, system or unknown, fails to parse and refuses
-- the statement, and so does one without a kind (the audit table's actor_kind is NOT NULL). A NULL argument makes
-- no claim: the setting is reset, and the change is recorded as 'unattributed'. It runs with the caller's rights,
-- so it needs no pinned search_path; one SQL expression, every name qualified, it is inlined.
CREATE FUNCTION {{.CS}}.claim(actor text, target text, method text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN pg_catalog.set_config('auditrepo.claim', {{.CS}}.claim_prefix(target)
	OPERATOR(pg_catalog.||) ({{.CS}}.claim_field(method) OPERATOR(pg_catalog.||) ',') OPERATOR(pg_catalog.||) actor, true) IS NOT NULL;

-- actor returns the claim made for this statement and table, or NULL (an 'unattributed' change). One SQL
-- expression, inlined into the trigger functions.
CREATE FUNCTION {{.S}}.actor(target text) RETURNS {{.S}}.claimed LANGUAGE sql STABLE
RETURN CASE WHEN pg_catalog.starts_with(pg_catalog.current_setting('auditrepo.claim', true), {{.CS}}.claim_prefix(target))
	THEN pg_catalog.current_setting('auditrepo.claim', true)::{{.S}}.claimed END;

-- Refuses TRUNCATE on audited tables: no audit row could describe it.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.refuse_truncate() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	RAISE EXCEPTION 'TRUNCATE on audited table %.% refused: its rows would leave no audit trail', TG_TABLE_SCHEMA, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END
$ar$;
-- +goose StatementEnd

-- partition_name is the name of the audit table's monthly partition holding month (any day of it):
-- <table>_YYYYMM. It is the scheme's one definition: maintain() names the partitions it creates by it, retain()
-- recognises the monthly partitions by it, and Upgrade names those of the imported months by it. IMMUTABLE: the
-- date is cast to timestamp without time zone and 'YYYYMM' reads nothing of the locale (to_char is STABLE for
-- the patterns that do). Every name is qualified; it runs with the caller's rights.
CREATE FUNCTION {{.S}}.partition_name(month date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN {{lit .Table}} OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) pg_catalog.to_char(month::pg_catalog.timestamp, 'YYYYMM');

-- default_partition is the audit table's default partition, NULL if it has none.
CREATE FUNCTION {{.S}}.default_partition() RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN (SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = format('%I.%I', {{lit .Schema}}, {{lit .Table}})::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT');

-- default_months are the months (UTC's) of the rows in the default partition that a monthly partition can hold:
-- rows land there when maintain() did not run for longer than the months it creates ahead. Rows of an infinite
-- time, or of a year before 1 AD or after 9999 (partition_name() would not tell them apart), stay there.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.default_months() RETURNS SETOF date LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $ar$
DECLARE
	def text := {{.S}}.default_partition();
BEGIN
	IF def IS NOT NULL THEN
		RETURN QUERY EXECUTE pg_catalog.format($q$SELECT DISTINCT date_trunc('month', occurred_at)::date FROM %I.%I
			WHERE occurred_at >= '0001-01-01 00:00:00+00' AND occurred_at < '10000-01-01 00:00:00+00' ORDER BY 1$q$, {{lit .Schema}}, def);
	END IF;
END
$ar$;
-- +goose StatementEnd

-- maintain creates the monthly partitions from the current month to months_ahead months ahead, and those of the
-- months of rows in the default partition (default_months), moving those rows into them: PostgreSQL refuses a
-- partition whose rows are in the default partition, so it detaches that, creates the partitions and an empty
-- default partition, copies the old one's rows through the audit table (every column as it was, ids included:
-- the rows seal and verify the same) and drops it. The months are UTC's, whatever the caller's TimeZone: a
-- partition's bounds are its dates read in the session's time zone, so months of another zone would overlap the
-- existing partitions (east of UTC) or leave gaps between them (west). Creating a partition takes ACCESS
-- EXCLUSIVE on the audit table, which every audited write waits for while it is asked for: it waits at most
-- lock_timeout 500ms, then fails (55P03), to be run again.
--
-- It runs only under READ COMMITTED, where each statement reads what was committed before it, so the copy, made
-- once the lock is held, reads every row the old default partition has. Under REPEATABLE READ or SERIALIZABLE it
-- would copy the rows of the transaction's snapshot alone, and the DROP would delete those committed since: audit
-- rows gone without trace. For the same reason it fails unless the copy inserted every row it drops.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.maintain(months_ahead integer DEFAULT 3) RETURNS integer LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET lock_timeout = '500ms' AS $ar$
DECLARE
	now_month date := date_trunc('month', now())::date;
	months date[];
	moved date[];
	made integer := 0;
	name text;
	m date;
	def text := {{.S}}.default_partition();
	moving text := {{lit .Table}} || '_default_moving';
	copied bigint;
	held bigint;
BEGIN
	moved := array(SELECT {{.S}}.default_months());
	-- Creating partitions alone is safe under any snapshot (PostgreSQL checks the default partition's rows itself).
	IF cardinality(moved) > 0 AND current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
		RAISE EXCEPTION 'maintain: refused under %: it moves rows between partitions, and its transaction''s snapshot would miss rows committed since it was taken, which the move would drop', upper(current_setting('transaction_isolation'))
			USING ERRCODE = 'feature_not_supported', HINT = 'Run it in a READ COMMITTED transaction.';
	END IF;
	months := array(SELECT DISTINCT d FROM unnest(moved || array(SELECT (now_month + make_interval(months => g))::date
		FROM generate_series(0, months_ahead) g)) d
		WHERE to_regclass(format('%I.%I', {{lit .Schema}}, {{.S}}.partition_name(d))) IS NULL ORDER BY d);
	IF cardinality(months) = 0 THEN
		RETURN 0;
	END IF;
	BEGIN
		EXECUTE pg_catalog.format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', {{lit .Schema}}, {{lit .Table}});
	EXCEPTION WHEN lock_not_available THEN
		RAISE EXCEPTION 'maintain: the audit table %.% is in use: another transaction holds a lock on it (a long read, say), and creating partitions waits at most 500ms so that no audited write waits behind it; nothing was created: run it again when it is done',
			quote_ident({{lit .Schema}}), quote_ident({{lit .Table}}) USING ERRCODE = 'lock_not_available';
	END;
	IF cardinality(moved) > 0 THEN
		EXECUTE pg_catalog.format('ALTER TABLE %I.%I DETACH PARTITION %I.%I', {{lit .Schema}}, {{lit .Table}}, {{lit .Schema}}, def);
		EXECUTE pg_catalog.format('ALTER TABLE %I.%I RENAME TO %I', {{lit .Schema}}, def, moving);
	END IF;
	FOREACH m IN ARRAY months LOOP
		name := {{.S}}.partition_name(m);
		EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
			{{lit .Schema}}, name, {{lit .Schema}}, {{lit .Table}}, m, (m + interval '1 month')::date);
		-- Its row type, like every table's of the schema (below), is no other role's to build on.
		EXECUTE pg_catalog.format('REVOKE USAGE ON TYPE %I.%I FROM PUBLIC', {{lit .Schema}}, name);
		made := made + 1;
	END LOOP;
	IF cardinality(moved) > 0 THEN
		EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', {{lit .Schema}}, def, {{lit .Schema}}, {{lit .Table}});
		EXECUTE pg_catalog.format('REVOKE USAGE ON TYPE %I.%I FROM PUBLIC', {{lit .Schema}}, def);
		EXECUTE pg_catalog.format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT * FROM %I.%I', {{lit .Schema}}, {{lit .Table}}, {{lit .Schema}}, moving);
		GET DIAGNOSTICS copied = ROW_COUNT;
		EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I', {{lit .Schema}}, moving) INTO held;
		IF copied <> held THEN
			RAISE EXCEPTION 'maintain: moving the default partition''s rows copied % of its % rows; nothing was changed', copied, held
				USING ERRCODE = 'internal_error';
		END IF;
		EXECUTE pg_catalog.format('DROP TABLE %I.%I', {{lit .Schema}}, moving);
	END IF;
	RETURN made;
END
$ar$;
-- +goose StatementEnd
SELECT {{.S}}.maintain();

{{template "seal" .}}

{{template "retention" .}}

{{template "model_functions" .}}

-- Nor on the row type of any of its tables (the audit table's, its partitions', the logs'): a column of one in
-- another role's table would pin the table against the audit role's later ALTER or DROP. maintain() and Upgrade
-- revoke it for each partition they create.
-- +goose StatementBegin
DO $ar$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.relname FROM pg_catalog.pg_class c
	         WHERE c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = {{lit .Schema}})
	           AND c.relkind IN ('r', 'p') AND c.reltype <> 0 LOOP
		EXECUTE pg_catalog.format('REVOKE USAGE ON TYPE %I.%I FROM PUBLIC', {{lit .Schema}}, r.relname);
	END LOOP;
END
$ar$;
-- +goose StatementEnd

CREATE VIEW {{.S}}.{{ident .WritesView}} AS SELECT actor_kind, actor_id, ip, user_agent, request_id, method, action,
	target_table, target_id, patient_id, prior_patient_id, changes FROM {{.S}}.{{.T}};
REVOKE USAGE ON TYPE {{.S}}.{{ident .WritesView}} FROM PUBLIC;

RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA {{.S}} FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {{.S}} FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {{.CS}} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{.CS}}.claim(text, text, text), {{.CS}}.claim_prefix(text), {{.CS}}.claim_field(text) TO {{ident .App}};
-- The trigger functions' role adds audit rows and reads its statement's claim, nothing more: it cannot change,
-- remove or read a row, nor set the columns that are the server's facts (the row's id, time, transaction, session
-- role and client address): a row added by code of another role's that reached a trigger function
-- still says when, in which transaction and in whose session it was written. It inserts through the view of the
-- other columns (see WritesView in package auditschema), which the audit role owns.
GRANT INSERT ON {{.S}}.{{ident .WritesView}} TO {{ident .Writer}};
GRANT EXECUTE ON FUNCTION {{.S}}.actor(text), {{.CS}}.claim_prefix(text), {{.CS}}.claim_field(text) TO {{ident .Writer}};
GRANT EXECUTE ON FUNCTION {{.S}}.maintain(integer) TO {{ident .Owner}};
GRANT SELECT ON {{.S}}.{{.T}}, {{.S}}.ddl_log, {{.S}}.schema_version, {{.S}}.audited_tables TO {{ident .Reviewer}};
GRANT SELECT ON {{.S}}.{{.T}} TO {{ident .Sealer}};
-- Tools that seal or apply retention, as these roles, check first that the schema is the revision they were
-- built for (InstalledRevision).
GRANT SELECT ON {{.S}}.schema_version TO {{ident .Owner}}, {{ident .Sealer}};
-- +goose StatementBegin
DO $ar$
BEGIN
	IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE pg_catalog.format('REVOKE %I FROM %I', {{lit .Audit}}, current_user);
	END IF;
END
$ar$;
-- +goose StatementEnd

SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('auditrepo.search_path'), pg_catalog.current_setting('auditrepo.pin_local', true) IS NOT DISTINCT FROM 'on');
