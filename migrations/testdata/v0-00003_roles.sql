-- +goose Up
-- Two roles separate who may change the schema from who runs the application:
--
--   auditrepo_owner (NOLOGIN) owns every table and function. Only it and its members (the migrating user,
--   which this migration makes a member) can alter or drop them, disable their triggers or truncate them.
--   auditrepo_app (LOGIN) is the application's: it reads and writes the clinic's rows and can only read and
--   append to audit_log. It owns nothing, so it can neither disable the append-only triggers of audit_log nor
--   the backstop triggers of the PHI tables. Its password (or other authentication) is set outside the
--   migrations.
--
-- Roles belong to the whole server, not to one database: they are created only if missing, and this
-- migration refuses an existing auditrepo_app with privileges that would void the guarantees above.
-- Later migrations that add a table must give it to auditrepo_owner and grant auditrepo_app what it needs
-- (reliability.TestRolePrivileges checks who owns every table and function, and what the application may do).

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditrepo_owner') THEN
        CREATE ROLE auditrepo_owner NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created concurrently by another migration run
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditrepo_app') THEN
        CREATE ROLE auditrepo_app LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditrepo_app'
               AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication)) THEN
        RAISE EXCEPTION 'role auditrepo_app must not be a superuser or have BYPASSRLS, CREATEROLE or REPLICATION';
    END IF;
    IF pg_has_role('auditrepo_app', 'auditrepo_owner', 'MEMBER') THEN
        RAISE EXCEPTION 'role auditrepo_app must not be a member of auditrepo_owner';
    END IF;
END
$$;
-- +goose StatementEnd

GRANT auditrepo_owner TO CURRENT_USER;

-- The owner creates in the schema (ALTER ... OWNER TO requires it, and migrations.Up installs the backstop
-- triggers as auditrepo_owner); the application only uses it.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO auditrepo_owner', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO auditrepo_app', current_schema());
END
$$;
-- +goose StatementEnd

ALTER TABLE users OWNER TO auditrepo_owner;
ALTER TABLE clinic_locations OWNER TO auditrepo_owner;
ALTER TABLE appointments OWNER TO auditrepo_owner;
ALTER TABLE dental_records OWNER TO auditrepo_owner;
ALTER TABLE billings OWNER TO auditrepo_owner;
ALTER TABLE invoices OWNER TO auditrepo_owner;
ALTER TABLE treatment_plans OWNER TO auditrepo_owner;
ALTER TABLE documents OWNER TO auditrepo_owner;
ALTER TABLE patient_intake_forms OWNER TO auditrepo_owner;
ALTER TABLE audit_log OWNER TO auditrepo_owner;
ALTER FUNCTION audit_log_refuse() OWNER TO auditrepo_owner;

GRANT SELECT, INSERT, UPDATE, DELETE ON users, clinic_locations, appointments, dental_records, billings, invoices,
    treatment_plans, documents, patient_intake_forms TO auditrepo_app;
-- Append-only: no UPDATE, DELETE or TRUNCATE, on top of the triggers that refuse them to everyone.
GRANT SELECT, INSERT ON audit_log TO auditrepo_app;

-- +goose Down
-- The roles stay: other databases on the server may use them.
REVOKE ALL ON users, clinic_locations, appointments, dental_records, billings, invoices, treatment_plans, documents,
    patient_intake_forms, audit_log FROM auditrepo_app;
ALTER TABLE users OWNER TO CURRENT_USER;
ALTER TABLE clinic_locations OWNER TO CURRENT_USER;
ALTER TABLE appointments OWNER TO CURRENT_USER;
ALTER TABLE dental_records OWNER TO CURRENT_USER;
ALTER TABLE billings OWNER TO CURRENT_USER;
ALTER TABLE invoices OWNER TO CURRENT_USER;
ALTER TABLE treatment_plans OWNER TO CURRENT_USER;
ALTER TABLE documents OWNER TO CURRENT_USER;
ALTER TABLE patient_intake_forms OWNER TO CURRENT_USER;
ALTER TABLE audit_log OWNER TO CURRENT_USER;
ALTER FUNCTION audit_log_refuse() OWNER TO CURRENT_USER;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM auditrepo_app, auditrepo_owner', current_schema());
END
$$;
-- +goose StatementEnd
