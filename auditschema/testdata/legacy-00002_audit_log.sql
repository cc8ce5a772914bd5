-- +goose Up
-- One row per audited change, written by the generated repositories in the same statement as the change.
CREATE TABLE audit_log (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    transaction_id    bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    actor_id          bigint,
    actor_kind        text NOT NULL CHECK (actor_kind IN ('user', 'system', 'unknown')),
    ip                inet,
    user_agent        text,
    request_id        text,
    action            text NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE')),
    target_table      text NOT NULL,
    target_id         bigint NOT NULL,
    patient_id        bigint,
    -- Set when an UPDATE moved the record away from this patient, so both patients' trails find it.
    prior_patient_id  bigint,
    changes           jsonb NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, occurred_at);
CREATE INDEX audit_log_prior_patient ON audit_log (prior_patient_id, occurred_at)
    WHERE prior_patient_id IS NOT NULL;
CREATE INDEX audit_log_target ON audit_log (target_table, target_id);

-- The trail is append-only for everyone, the owner included: these triggers refuse UPDATE, DELETE and
-- TRUNCATE. Only the table owner may disable them.
-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse();
