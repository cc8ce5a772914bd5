-- +goose Up
-- Actor kind 'unattributed' marks the rows of the backstop: changes to a PHI table that did not go through
-- the generated repositories (gen/repo's BackstopSQL, which migrations.Up installs after the migrations).
-- 'unknown' stays what it was: a repository write whose context carried no actor (audit.AllowAnonymous).
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_actor_kind_check,
    ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('user', 'system', 'unknown', 'unattributed'));

-- +goose Down
-- NOT VALID: the trail may already hold unattributed rows, and it is never rewritten.
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_actor_kind_check,
    ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('user', 'system', 'unknown')) NOT VALID;
