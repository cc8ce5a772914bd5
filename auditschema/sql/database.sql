{{- define "database" -}}
-- What the audit schema needs of the database itself. Database privileges are not copied by CREATE DATABASE ...
-- TEMPLATE nor restored by pg_restore without --create, so Install and InstallModels apply this every time.
-- +goose StatementBegin
DO $ar$
BEGIN
	-- Temporary objects could shadow the unqualified names of the application's SQL; it needs none.
	EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
	EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM %I', pg_catalog.current_database(), {{lit .App}});
	-- Nor may every role create in public (PostgreSQL 14 and earlier let it): a function there matching a
	-- privileged session's arguments more exactly than the built-in it means would run as that session's role.
	IF pg_catalog.to_regnamespace('public') IS NOT NULL AND pg_catalog.has_schema_privilege('public', 'public', 'CREATE') THEN
		REVOKE CREATE ON SCHEMA public FROM PUBLIC;
		IF pg_catalog.has_schema_privilege('public', 'public', 'CREATE') THEN
			RAISE EXCEPTION 'every role may still create in schema public after the REVOKE (only its owner, or a superuser, may revoke it): run the install as the database''s owner or a superuser'
				USING ERRCODE = 'insufficient_privilege';
		END IF;
	END IF;
	-- A REVOKE by a role without the grant option (a CREATEROLE installer that does not own the database) only
	-- WARNs and revokes nothing: check what it left.
	IF pg_catalog.has_database_privilege({{lit .App}}, pg_catalog.current_database(), 'TEMPORARY') THEN
		RAISE EXCEPTION 'role % still has TEMPORARY on database % after the REVOKE (PostgreSQL only warns when a role without the grant option, here %, revokes): run the install as the database''s owner or a superuser',
			{{lit .App}}, pg_catalog.current_database(), current_user
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END
$ar$;
-- +goose StatementEnd
{{- end -}}
