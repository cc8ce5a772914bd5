{{- define "role_problems" -}}
-- What the roles have that the audit schema's boundaries forbid (roleRules in package auditschema): one row per
-- problem, (what, fix), in the order Install lists them. A role that does not exist yet is no problem: the install
-- creates it. The installer (current_user) is not counted among the audit and writer roles' members: a CREATEROLE
-- installer holds a lasting membership of the roles it created on PostgreSQL 16 and later, and is made one for the
-- install's own transaction on 15. Install (checkRoles) and v1.sql, for installs that run the SQL alone, both run
-- this.
SELECT p.what, p.fix FROM (
	SELECT a.rule, 0, 0, pg_catalog.format('role %s (%s) has %s', a.name, a.what, pg_catalog.string_agg(a.word, ', ' ORDER BY a.i)),
		pg_catalog.format('ALTER ROLE %I %s;', a.name, pg_catalog.string_agg('NO' OPERATOR(pg_catalog.||) a.word, ' ' ORDER BY a.i))
	FROM (VALUES {{ range $i, $a := .Attrs }}{{ if $i }}, {{ end }}({{ $a.Rule }}, {{ lit $a.Name }}, {{ lit $a.What }}, {{ lit $a.Column }}, {{ lit $a.Word }}, {{ $i }}){{ end }})
		AS a(rule, name, what, col, word, i)
	JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.name
	WHERE (pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) a.col)::boolean
	GROUP BY a.rule, a.name, a.what
	UNION ALL
	SELECT m.rule, 1, m.i, pg_catalog.format('role %s (%s) is a member of %s', m.name, m.what, m.of),
		pg_catalog.format('REVOKE %I FROM %I; (or from the role through which it is one)', m.of, m.name)
	FROM (VALUES {{ range $i, $m := .Members }}{{ if $i }}, {{ end }}({{ $m.Rule }}, {{ lit $m.Name }}, {{ lit $m.What }}, {{ lit $m.Of }}, {{ $i }}){{ end }})
		AS m(rule, name, what, of, i)
	-- By oid: pg_has_role fails on a name no role has.
	JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.name
	JOIN pg_catalog.pg_roles g ON g.rolname OPERATOR(pg_catalog.=) m.of
	WHERE pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')
	UNION ALL
	SELECT {{ len .Rules }}, 2, pg_catalog.row_number() OVER (ORDER BY g.rolname OPERATOR(pg_catalog.<>) {{ lit .Audit }}, m.rolname),
		pg_catalog.format('role %s is a member of %s %s', m.rolname, g.rolname, CASE g.rolname WHEN {{ lit .Audit }}
			THEN '(the audit role): it may edit the trail' ELSE '(the writer role): it may add rows to the trail' END),
		pg_catalog.format('REVOKE %I FROM %I;', g.rolname, m.rolname)
	FROM pg_catalog.pg_auth_members am
	JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) am.roleid
	JOIN pg_catalog.pg_roles m ON m.oid OPERATOR(pg_catalog.=) am.member
	-- The roles of the schema are named above.
	WHERE g.rolname OPERATOR(pg_catalog.=) ANY (ARRAY[{{ lit .Audit }}, {{ lit .Writer }}]) AND m.rolname OPERATOR(pg_catalog.<>) current_user
		AND m.rolname OPERATOR(pg_catalog.<>) ALL (ARRAY[{{ lit .Audit }}, {{ lit .Writer }}, {{ lit .Owner }}, {{ lit .App }}, {{ lit .Reviewer }}, {{ lit .Sealer }}])
) p(rule, part, i, what, fix)
ORDER BY p.rule, p.part, p.i
{{- end -}}
