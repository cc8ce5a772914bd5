{{- define "role_problems" -}}
-- What the roles have that the audit schema's boundaries forbid (roleRules in package auditschema): one row per
-- problem, (what, fix), in the order Install lists them. A role that does not exist yet is no problem: the install
-- creates it. Install and InstallModels (checkRoles) and v1.sql, for installs that run the SQL alone, run this while
-- a CREATEROLE installer holds no membership of their own making (they grant it the audit role after this, or revoke
-- it before): a membership of the installer's (current_user) is left over, by a failed statement-by-statement run
-- of the schema's or the models' SQL, say, and counts as another role's would. Not the one PostgreSQL 16 and later
-- give a CREATEROLE installer in the roles it creates: ADMIN OPTION alone, neither INHERIT nor SET (the default
-- createrole_self_grant), which lets it act as the role no more than CREATEROLE does on 15. PostgreSQL 15 has neither
-- column: there every membership counts.
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
	WHERE g.rolname OPERATOR(pg_catalog.=) ANY (ARRAY[{{ lit .Audit }}, {{ lit .Writer }}])
		AND (m.rolname OPERATOR(pg_catalog.<>) current_user
			OR COALESCE((pg_catalog.to_jsonb(am) OPERATOR(pg_catalog.->>) 'inherit_option')::boolean, true)
			OR COALESCE((pg_catalog.to_jsonb(am) OPERATOR(pg_catalog.->>) 'set_option')::boolean, true))
		AND m.rolname OPERATOR(pg_catalog.<>) ALL (ARRAY[{{ lit .Audit }}, {{ lit .Writer }}, {{ lit .Owner }}, {{ lit .App }}, {{ lit .Reviewer }}, {{ lit .Sealer }}])
) p(rule, part, i, what, fix)
ORDER BY p.rule, p.part, p.i
{{- end -}}
