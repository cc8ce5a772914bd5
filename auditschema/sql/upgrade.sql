{{- define "upgrades" -}}
-- Upgrades from schema version 0 (the trail the clinic's own migrations kept in public.audit_log) record here
-- what they imported: Upgrade reads it to do nothing the second time. Created by the first Upgrade only, so a
-- database that never had a version 0 trail does not have it. Append-only, like the trail.
CREATE TABLE IF NOT EXISTS {{.S}}.upgrades (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	from_version integer NOT NULL,
	to_version   integer NOT NULL,
	source       text NOT NULL UNIQUE, -- the legacy table as it was named, e.g. public.audit_log
	renamed_to   text NOT NULL,        -- where it is kept, read-only, e.g. public.audit_log_v0
	row_count    bigint NOT NULL,
	min_id       bigint,
	max_id       bigint,
	upgraded_at  timestamptz NOT NULL DEFAULT now(),
	upgraded_by  text NOT NULL DEFAULT session_user
);
-- +goose StatementBegin
DO $ar$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = '{{.S}}.upgrades'::regclass AND tgname = 'refuse_update_delete') THEN
		CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.upgrades
			FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();
	END IF;
END
$ar$;
-- +goose StatementEnd
{{- end -}}

{{- define "import_v0" -}}
-- Copies every row of the version 0 table, keeping its id and every column it has. The columns version 0 did
-- not have say where the row came from: db_role is the role its backstop named in user_agent ('db role NAME[,
-- application APP]', current_user at the time) for unattributed rows, else 'imported'; application names the
-- source table; client_addr and method were not recorded.
INSERT INTO {{.S}}.{{.T}} (id, occurred_at, transaction_id, db_role, client_addr, application, actor_kind, actor_id,
	ip, user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes)
OVERRIDING SYSTEM VALUE
SELECT l.id, l.occurred_at, l.transaction_id::text::xid8,
	CASE WHEN l.actor_kind = 'unattributed' AND l.user_agent LIKE 'db role _%'
		THEN regexp_replace(substr(l.user_agent, 9), ', application .*$', '')
		ELSE 'imported' END,
	NULL, {{lit (print "imported from " .Source)}}, l.actor_kind, l.actor_id,
	l.ip, l.user_agent, l.request_id, NULL, l.action, l.target_table, l.target_id, l.patient_id, l.prior_patient_id, l.changes
FROM {{.Legacy}} l
ORDER BY l.id
{{- end -}}

{{- define "missing_v0" -}}
-- The rows of the version 0 table that are not in the audit table with every column equal.
SELECT count(*) FROM {{.Legacy}} l
WHERE NOT EXISTS (
	SELECT FROM {{.S}}.{{.T}} n
	WHERE n.id = l.id AND n.occurred_at = l.occurred_at AND n.transaction_id = l.transaction_id::text::xid8
	  AND n.actor_kind = l.actor_kind AND n.actor_id IS NOT DISTINCT FROM l.actor_id
	  AND n.ip IS NOT DISTINCT FROM l.ip AND n.user_agent IS NOT DISTINCT FROM l.user_agent
	  AND n.request_id IS NOT DISTINCT FROM l.request_id AND n.action = l.action
	  AND n.target_table = l.target_table AND n.target_id = l.target_id
	  AND n.patient_id IS NOT DISTINCT FROM l.patient_id AND n.prior_patient_id IS NOT DISTINCT FROM l.prior_patient_id
	  AND n.changes = l.changes
	  AND n.application = {{lit (print "imported from " .Source)}})
{{- end -}}
