{{- /* model_problems is what the models' tables lack that installing their triggers requires: one row per problem,
(what, fix), table by table, each step of a patient path after the first table that follows it. InstallModels
(check) runs it, and so does the generated SQL (model_checks), for installs that run that alone. */ -}}
{{- define "model_problems" -}}
WITH t(i, name, cols) AS (
	{{- if .Tables }}
	VALUES {{ range $i, $t := .Tables }}{{ if $i }},
		{{ end }}({{ $i }}, {{ lit $t.Name }}, ARRAY[{{ range $j, $c := $t.Columns }}{{ if $j }}, {{ end }}{{ lit $c }}{{ end }}]::text[]){{ end }}
	{{- else }}
	SELECT 0, NULL::text, NULL::text[] WHERE false
	{{- end }}
), ref(i, j, src, col, dst) AS (
	{{- if .Refs }}
	VALUES {{ range $j, $r := .Refs }}{{ if $j }},
		{{ end }}({{ $r.Table }}, {{ $j }}, {{ lit $r.From }}, {{ lit $r.Column }}, {{ lit $r.To }}){{ end }}
	{{- else }}
	SELECT 0, 0, NULL::text, NULL::text, NULL::text WHERE false
	{{- end }}
), n(owner, app) AS (SELECT {{ .OwnerSQL }}, {{ .AppSQL }}),
c AS (SELECT t.*, k.oid, k.relowner FROM t LEFT JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t.name))
SELECT p.what, p.fix FROM (
	-- The generated SQL reads the roles from the installed schema's grants: each must be granted to one role.
	SELECT -1, 0, 0, 'the owner and application roles cannot be told from the audit schema''s grants: EXECUTE on maintain() and on claim() must each be granted to one role, the owner''s and the application''s',
		'GRANT EXECUTE ON FUNCTION maintain(integer) to the owner role alone and claim(text, text, text) to the application role alone, as the audit schema''s SQL does; or install with auditschema.InstallModels, given the names'
	FROM n WHERE n.owner IS NULL OR n.app IS NULL
	UNION ALL
	SELECT c.i, 0, 0, pg_catalog.format('table %s does not exist', c.name), 'run the migrations that create it before installing the models'
	FROM c WHERE c.oid IS NULL
	UNION ALL
	SELECT c.i, 1, 0, pg_catalog.format('table %s has columns its model does not declare: %s', c.name, pg_catalog.string_agg(a.attname::text, ', ' ORDER BY a.attnum)),
		'declare them in the model (untagged, or audit:"exclude", "redact" or "nonphi"), regenerate the repositories and install those'
	FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	WHERE a.attname::text OPERATOR(pg_catalog.<>) ALL (c.cols)
	GROUP BY c.i, c.name
	UNION ALL
	SELECT c.i, 2, 0, pg_catalog.format('table %s lacks columns its model declares: %s', c.name, pg_catalog.string_agg(m.col, ', ' ORDER BY m.k)),
		'run the migrations the repositories were generated from, or regenerate them from this schema'
	FROM c CROSS JOIN LATERAL pg_catalog.unnest(c.cols) WITH ORDINALITY m(col, k)
	WHERE c.oid IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
		AND a.attname::text OPERATOR(pg_catalog.=) m.col AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
	GROUP BY c.i, c.name
	UNION ALL
	-- The triggers pair a row's old and new versions by id (transition tables keep no other link): rows sharing
	-- one would have their images mixed up, or a change of either written as two halves. An audit row names its
	-- target by id, which the audit table requires: a row with a NULL id would fail the write with a not-null
	-- violation whose DETAIL carries the audit row, its image included, to the application's logs.
	SELECT c.i, 3, 0, pg_catalog.format('table %s has %s (id must be NOT NULL and unique on its own: a PRIMARY KEY, or NOT NULL and a UNIQUE constraint, not deferrable): the audit triggers pair a row''s old and new versions by id, and an audit row names its target by it (a NULL one would fail the write, with the row''s image in the error)',
			c.name, pg_catalog.array_to_string(ARRAY[CASE WHEN NOT u.uniq THEN 'no unique index on id alone' END, CASE WHEN NOT a.attnotnull THEN 'an id that may be NULL' END], ' and ')),
		pg_catalog.array_to_string(ARRAY[CASE WHEN NOT a.attnotnull THEN pg_catalog.format('ALTER TABLE %s ALTER COLUMN id SET NOT NULL;', c.name) END,
			CASE WHEN NOT u.uniq THEN pg_catalog.format('ALTER TABLE %s ADD UNIQUE (id);', c.name) END], ' ')
	FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) 'id' AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_index x WHERE x.indrelid OPERATOR(pg_catalog.=) c.oid AND x.indisunique AND x.indimmediate
		AND x.indnkeyatts OPERATOR(pg_catalog.=) 1 AND x.indkey[0] OPERATOR(pg_catalog.=) a.attnum AND x.indpred IS NULL)) u(uniq)
	WHERE NOT u.uniq OR NOT a.attnotnull
	UNION ALL
	-- The audit triggers are statement triggers on this table: a statement on a parent or a child (a partition
	-- included) fires none of them, and its changes to this table's rows would leave no row.
	SELECT c.i, 4, 0, pg_catalog.format('table %s takes part in inheritance or partitioning (with %s): writes through those tables would fire none of its audit triggers',
			c.name, pg_catalog.string_agg(h.oid::pg_catalog.regclass::text, ', ' ORDER BY h.oid::pg_catalog.regclass::text)),
		'audit a table that neither inherits nor is inherited from, nor is partitioned or a partition'
	FROM c JOIN pg_catalog.pg_inherits x ON c.oid IN (x.inhrelid, x.inhparent)
	JOIN pg_catalog.pg_class h ON h.oid OPERATOR(pg_catalog.=) CASE WHEN x.inhrelid OPERATOR(pg_catalog.=) c.oid THEN x.inhparent ELSE x.inhrelid END
	GROUP BY c.i, c.name
	UNION ALL
	SELECT c.i, 5, 0, pg_catalog.format('table %s is owned by %s, not %s', c.name, pg_catalog.pg_get_userbyid(c.relowner), n.owner),
		pg_catalog.format('ALTER TABLE %s OWNER TO "%s";', c.name, pg_catalog.replace(n.owner, '"', '""'))
	FROM c, n WHERE c.oid IS NOT NULL AND pg_catalog.pg_get_userbyid(c.relowner) OPERATOR(pg_catalog.<>) n.owner
	UNION ALL
	SELECT c.i, 6, 0, pg_catalog.format('role %s lacks %s on %s', n.app, g.privs, c.name),
		pg_catalog.format('GRANT %s ON %s TO "%s";', g.privs, c.name, pg_catalog.replace(n.app, '"', '""'))
	FROM c, n, LATERAL (SELECT pg_catalog.string_agg(u.p, ', ' ORDER BY u.k)
		FROM pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY u(p, k)
		WHERE CASE WHEN n.app IS NULL THEN false ELSE NOT pg_catalog.has_table_privilege(n.app, c.oid, u.p) END) g(privs)
	WHERE c.oid IS NOT NULL AND g.privs IS NOT NULL
	UNION ALL
	-- A step of a patient path: its column needs a validated foreign key to the next table's id that is ON DELETE
	-- RESTRICT ON UPDATE RESTRICT and not deferrable, and no other key there (see Ref in package auditschema). The
	-- fix drops the other keys and validates or adds one.
	SELECT r.i, 7, r.j, pg_catalog.format('column %s.%s, which the patient path follows, needs exactly the foreign keys to %s (id) that are validated, not deferrable and ON DELETE RESTRICT ON UPDATE RESTRICT: without one, a statement could delete or re-key the %s row, or give its id to another row, and the dependents would change patient with no audit row of theirs',
			r.src, r.col, r.dst, r.dst),
		pg_catalog.format('ALTER TABLE %s %s;', r.src, pg_catalog.array_to_string(f.fixes, ', '))
	FROM ref r
	CROSS JOIN LATERAL (
		SELECT pg_catalog.array_agg(k.conname::text ORDER BY k.conname) FILTER (WHERE NOT k.ok) AS bad,
			(pg_catalog.array_agg(k.conname::text ORDER BY NOT k.convalidated, k.conname) FILTER (WHERE k.ok))[1] AS good,
			COALESCE(pg_catalog.bool_or(k.ok AND k.convalidated), false) AS valid
		FROM (SELECT k.conname, k.confdeltype OPERATOR(pg_catalog.=) 'r' AND k.confupdtype OPERATOR(pg_catalog.=) 'r' AND NOT k.condeferrable AS ok, k.convalidated
			FROM pg_catalog.pg_constraint k
			JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attname::text OPERATOR(pg_catalog.=) r.col
			JOIN pg_catalog.pg_attribute b ON b.attrelid OPERATOR(pg_catalog.=) k.confrelid AND b.attname OPERATOR(pg_catalog.=) 'id'
			WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.conrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.src)
				AND k.confrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.dst)
				AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum] AND k.confkey OPERATOR(pg_catalog.=) ARRAY[b.attnum]) k
	) s
	CROSS JOIN LATERAL (SELECT ARRAY(
		SELECT 'DROP CONSTRAINT "' OPERATOR(pg_catalog.||) pg_catalog.replace(x.name, '"', '""') OPERATOR(pg_catalog.||) '"'
		FROM pg_catalog.unnest(s.bad) WITH ORDINALITY x(name, k)
		UNION ALL
		SELECT 'VALIDATE CONSTRAINT "' OPERATOR(pg_catalog.||) pg_catalog.replace(s.good, '"', '""') OPERATOR(pg_catalog.||) '"'
		WHERE s.good IS NOT NULL AND NOT s.valid
		UNION ALL
		SELECT pg_catalog.format('ADD FOREIGN KEY ("%s") REFERENCES %s (id) ON DELETE RESTRICT ON UPDATE RESTRICT', pg_catalog.replace(r.col, '"', '""'), r.dst)
		WHERE s.good IS NULL) AS fixes) f
	WHERE pg_catalog.to_regclass(r.src) IS NOT NULL AND pg_catalog.to_regclass(r.dst) IS NOT NULL
		AND pg_catalog.cardinality(f.fixes) OPERATOR(pg_catalog.>) 0
) p(i, part, j, what, fix)
ORDER BY p.i, p.part, p.j
{{- end -}}

{{- define "model_checks" -}}
-- Installing these triggers requires of their tables what auditschema.InstallModels checks first: this refuses
-- the install, naming each problem and its fix, for installs that run this SQL alone. The owner and application
-- roles are the installed audit schema's: those granted its maintain() and claim(). InstallModels, which has
-- checked against the roles its Config names, marks its transaction so that this does not check again.
-- +goose StatementBegin
DO $ar$
DECLARE
	problem record;
	bad text;
BEGIN
	IF pg_catalog.current_setting('auditrepo.models_checked', true) = 'on' THEN
		RETURN;
	END IF;
	FOR problem IN
{{ template "model_problems" . }}
	LOOP
		bad := pg_catalog.concat_ws(E'\n', bad, pg_catalog.format('  - %s; fix: %s', problem.what, problem.fix));
	END LOOP;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION E'the audited tables are not ready; nothing was installed:\n%', bad USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
END
$ar$;
-- +goose StatementEnd
{{- end -}}
