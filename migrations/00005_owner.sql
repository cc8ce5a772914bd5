-- +goose Up
-- Numbered 5: databases migrated before the audit schema was a library recorded versions 2 to 4 (the audit
-- table, the roles, unattributed rows), which goose would take for this file and any other reusing them.
-- The clinic's tables belong to the owner role and the application role may read and write them: what
-- auditschema.InstallModels checks before it installs the audit triggers. The roles are created by
-- auditschema.Install, which migrations.Up runs before these migrations.

-- +goose StatementBegin
DO $$
BEGIN
    -- A non-superuser migrator must be a member of the owner role to give it the tables.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        GRANT auditrepo_owner TO CURRENT_USER;
    END IF;
    -- Built-ins qualified: a superuser runs this, and another role's format(text, name) in public would match
    -- current_schema()'s name better than pg_catalog's.
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO auditrepo_app', pg_catalog.current_schema());
    -- ALTER TABLE ... OWNER TO checks that the new owner may create in the table's schema (a superuser skips the
    -- check), which nobody may in public since PostgreSQL 15 but its owner, pg_database_owner.
    EXECUTE pg_catalog.format('GRANT CREATE ON SCHEMA %I TO auditrepo_owner', pg_catalog.current_schema());
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

GRANT SELECT, INSERT, UPDATE, DELETE ON users, clinic_locations, appointments, dental_records, billings, invoices,
    treatment_plans, documents, patient_intake_forms TO auditrepo_app;

-- +goose Down
REVOKE ALL ON users, clinic_locations, appointments, dental_records, billings, invoices, treatment_plans, documents,
    patient_intake_forms FROM auditrepo_app;
ALTER TABLE users OWNER TO CURRENT_USER;
ALTER TABLE clinic_locations OWNER TO CURRENT_USER;
ALTER TABLE appointments OWNER TO CURRENT_USER;
ALTER TABLE dental_records OWNER TO CURRENT_USER;
ALTER TABLE billings OWNER TO CURRENT_USER;
ALTER TABLE invoices OWNER TO CURRENT_USER;
ALTER TABLE treatment_plans OWNER TO CURRENT_USER;
ALTER TABLE documents OWNER TO CURRENT_USER;
ALTER TABLE patient_intake_forms OWNER TO CURRENT_USER;
