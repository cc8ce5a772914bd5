{{- define "database" -}}
-- What the audit schema needs of the database itself. Database privileges are not copied by CREATE DATABASE ...
-- TEMPLATE nor restored by pg_restore without --create, so Install and InstallModels apply this every time.
-- +goose StatementBegin
DO $ar$
BEGIN
	-- Temporary objects could shadow the unqualified names of the application's SQL; it needs none.
	EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), {{lit .App}});
	EXECUTE format('GRANT CREATE ON DATABASE %I TO %I', current_database(), {{lit .Audit}});
END
$ar$;
-- +goose StatementEnd
{{- end -}}
