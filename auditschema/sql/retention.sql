{{- define "retention" -}}
-- Retention (auditrepo retention): legal holds, the retention log, and the function that drops old partitions.
-- Audit rows are never deleted one by one (the table refuses it); retain() drops whole monthly partitions once
-- they are older than the floor, unless a legal hold covers them. The goose annotations keep goose from
-- splitting the functions' bodies at their semicolons; other tools read them as comments.

-- A legal hold keeps every partition holding a row of the patient (as patient or as prior patient), or every
-- partition overlapping the period. Released holds stay, with who released them.
CREATE TABLE {{.S}}.legal_holds (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	patient_id  bigint,
	period      tstzrange CHECK (NOT pg_catalog.isempty(period)),
	reason      text NOT NULL CHECK (pg_catalog.btrim(reason) <> ''),
	placed_at   timestamptz NOT NULL DEFAULT now(),
	placed_by   text NOT NULL DEFAULT session_user,
	released_at timestamptz,
	released_by text,
	-- Why it was released: a hold is a legal decision, and so is ending it.
	release_reason text CHECK (pg_catalog.btrim(release_reason) <> ''),
	CHECK ((patient_id IS NULL) <> (period IS NULL)),
	CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
CREATE TRIGGER refuse_delete BEFORE DELETE ON {{.S}}.legal_holds
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- One row per partition retain() dropped: what it held, under which floor, and who ran it.
CREATE TABLE {{.S}}.retention_log (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	dropped_at     timestamptz NOT NULL DEFAULT now(),
	dropped_by     text NOT NULL DEFAULT session_user,
	partition_name text NOT NULL,
	range_from     timestamptz NOT NULL,
	range_to       timestamptz NOT NULL,
	floor          interval NOT NULL,
	cutoff         timestamptz NOT NULL,
	row_count      bigint NOT NULL,
	min_id         bigint,
	max_id         bigint
);
CREATE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON {{.S}}.retention_log
	FOR EACH ROW EXECUTE FUNCTION {{.S}}.refuse();

-- retain creates the partitions of the coming months (maintain), then drops each monthly partition that ends
-- before now() - floor and that no active legal hold covers, recording each drop in retention_log. It returns
-- what it did (or, with dry_run, would do): created / would_create, dropped / would_drop, kept (held, with the
-- holds), and default (rows in the default partition, which is never dropped). The floor may not be under the
-- six years HIPAA requires documentation be kept (45 CFR 164.316(b)(2)(i)). Its months are UTC's, as maintain()'s.
--
-- An audited write never waits behind it for long: it takes every lock it needs up front, first the old
-- partitions (which no write goes to; in name order), counting and checking them, and only then the audit table
-- itself, which DETACH and maintain()'s CREATE need ACCESS EXCLUSIVE on and every write waits for while it is
-- asked for, each with lock_timeout 500ms; a lock it does not get fails the run (55P03), naming the table in use,
-- and nothing is dropped: run it again later.
--
-- Like maintain(), it changes things only under READ COMMITTED: under REPEATABLE READ or SERIALIZABLE its
-- statements would read the transaction's snapshot, blind to a legal hold placed since it was taken, and maintain()
-- would drop the rows committed since. A dry run, which changes nothing, runs under any.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.retain(floor interval, dry_run boolean DEFAULT true)
RETURNS TABLE (action text, partition_name text, range_from timestamptz, range_to timestamptz, n_rows bigint,
               min_id bigint, max_id bigint, detail text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET datestyle = 'ISO, YMD' SET TimeZone = 'UTC'
SET lock_timeout = '500ms' AS $ar$
DECLARE
	cutoff timestamptz := now() - floor;
	dry boolean := coalesce(dry_run, true);
	p record;
	b text[];
	this_month date := date_trunc('month', now())::date;
	m date;
	old text[] := '{}';
	old_from timestamptz[] := '{}';
	old_to timestamptz[] := '{}';
	counts bigint[] := '{}';
	min_ids bigint[] := '{}';
	max_ids bigint[] := '{}';
	holds text[] := '{}';
	in_use text;
BEGIN
	IF NOT dry AND current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
		RAISE EXCEPTION 'retention: refused under %: its transaction''s snapshot would miss what was committed since it was taken (a legal hold, audit rows that moving the default partition''s would drop)', upper(current_setting('transaction_isolation'))
			USING ERRCODE = 'feature_not_supported', HINT = 'Run it in a READ COMMITTED transaction (SET default_transaction_isolation for its session, where that is not the default).';
	END IF;
	-- Compared as instants, so a floor given in days or months is held to the calendar's six years.
	IF floor IS NULL OR cutoff > now() - interval '6 years' THEN
		RAISE EXCEPTION 'retention floor % is below 6 years: HIPAA requires audit records be kept at least 6 years; use a floor of 6 years or more', coalesce(floor::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- One run at a time, and no hold placed while a run decides: hold() takes the same lock. Waiting for it holds
	-- up no write, so without the lock_timeout (the SET clause restores it when the function returns).
	PERFORM set_config('lock_timeout', '0', true);
	PERFORM pg_advisory_xact_lock(hashtext({{lit .Schema}} || ' retention'));
	PERFORM set_config('lock_timeout', '500ms', true);

	-- The months maintain() creates (this one and the next three, and those of the rows in the default partition,
	-- which it moves there), reported before it runs.
	FOR m IN SELECT DISTINCT d FROM unnest(array(SELECT {{.S}}.default_months()) || array(SELECT (this_month + make_interval(months => g))::date
		FROM generate_series(0, 3) g)) d ORDER BY d
	LOOP
		partition_name := {{.S}}.partition_name(m);
		IF to_regclass(format('%I.%I', {{lit .Schema}}, partition_name)) IS NULL THEN
			action := CASE WHEN dry THEN 'would_create' ELSE 'created' END;
			range_from := m;
			range_to := (m + interval '1 month')::date;
			n_rows := 0; min_id := NULL; max_id := NULL;
			IF {{.S}}.default_partition() IS NOT NULL THEN
				EXECUTE format('SELECT count(*), min(id), max(id) FROM %I.%I WHERE occurred_at >= $1 AND occurred_at < $2', {{lit .Schema}}, {{.S}}.default_partition())
					INTO n_rows, min_id, max_id USING range_from, range_to;
			END IF;
			detail := CASE WHEN n_rows > 0 THEN 'with the rows of its month in the default partition, moved there' END;
			RETURN NEXT;
		END IF;
	END LOOP;

	-- The monthly partitions old enough to drop: only those maintain() makes, named by partition_name() for the
	-- month their range starts in; any other partition is left alone. That start is midnight on the first of the
	-- month in the time zone of the session that created the partition; UTC offsets differ by at most 26 hours,
	-- so two days later it is in that month in any time zone.
	FOR p IN
		SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = format('%I.%I', {{lit .Schema}}, {{lit .Table}})::regclass
		ORDER BY c.relname
	LOOP
		b := regexp_match(p.bound, $re$^FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)$$re$);
		CONTINUE WHEN b IS NULL;
		CONTINUE WHEN p.relname IS DISTINCT FROM {{.S}}.partition_name((b[1]::timestamptz + interval '2 days')::date);
		CONTINUE WHEN b[2]::timestamptz > cutoff;
		old := old || p.relname::text;
		old_from := old_from || b[1]::timestamptz;
		old_to := old_to || b[2]::timestamptz;
	END LOOP;

	-- Each locked before it is counted, so what is counted and checked is what is dropped. No write goes to
	-- these months, so waiting here holds up only readers of them.
	FOR i IN 1..coalesce(array_length(old, 1), 0) LOOP
		BEGIN
			EXECUTE format('LOCK TABLE %I.%I IN %s MODE', {{lit .Schema}}, old[i], CASE WHEN dry THEN 'SHARE' ELSE 'ACCESS EXCLUSIVE' END);
		EXCEPTION WHEN lock_not_available THEN
			in_use := format('partition %I.%I', {{lit .Schema}}, old[i]);
			EXIT;
		END;
		EXECUTE format('SELECT count(*), min(id), max(id) FROM %I.%I', {{lit .Schema}}, old[i]) INTO n_rows, min_id, max_id;
		SELECT string_agg(format('hold %s (period %s: %s)', h.id, h.period, h.reason), '; ' ORDER BY h.id) INTO detail
		FROM {{.S}}.legal_holds h
		WHERE h.released_at IS NULL AND h.period && tstzrange(old_from[i], old_to[i], '[)');
		IF detail IS NULL THEN
			EXECUTE format($q$SELECT string_agg(format('hold %%s (patient %%s: %%s)', h.id, h.patient_id, h.reason), '; ' ORDER BY h.id)
				FROM %I.legal_holds h
				WHERE h.released_at IS NULL AND h.patient_id IS NOT NULL
				  AND EXISTS (SELECT FROM %I.%I a WHERE a.patient_id = h.patient_id OR a.prior_patient_id = h.patient_id)$q$,
				{{lit .Schema}}, {{lit .Schema}}, old[i]) INTO detail;
		END IF;
		counts := counts || n_rows;
		min_ids := min_ids || min_id;
		max_ids := max_ids || max_id;
		holds := holds || detail;
	END LOOP;
	-- Only now, everything counted and checked, the audit table: every write waits while this is asked for, and
	-- until the transaction ends once it is granted.
	IF in_use IS NULL AND NOT dry THEN
		BEGIN
			EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', {{lit .Schema}}, {{lit .Table}});
		EXCEPTION WHEN lock_not_available THEN
			in_use := format('the audit table %I.%I', {{lit .Schema}}, {{lit .Table}});
		END;
	END IF;
	IF in_use IS NOT NULL THEN
		RAISE EXCEPTION 'retention: % is in use: another transaction holds a lock on it (a long read, say), and retention waits at most 500ms so that no audited write waits behind it; nothing was dropped or created: run retention again when it is done', in_use
			USING ERRCODE = 'lock_not_available';
	END IF;

	IF NOT dry THEN
		PERFORM {{.S}}.maintain(3);
	END IF;

	FOR i IN 1..coalesce(array_length(old, 1), 0) LOOP
		partition_name := old[i];
		range_from := old_from[i];
		range_to := old_to[i];
		n_rows := counts[i];
		min_id := min_ids[i];
		max_id := max_ids[i];
		detail := holds[i];
		IF detail IS NOT NULL THEN
			action := 'kept';
			detail := 'under legal hold: ' || detail;
		ELSIF dry THEN
			action := 'would_drop';
		ELSE
			EXECUTE format('ALTER TABLE %I.%I DETACH PARTITION %I.%I', {{lit .Schema}}, {{lit .Table}}, {{lit .Schema}}, old[i]);
			EXECUTE format('DROP TABLE %I.%I', {{lit .Schema}}, old[i]);
			INSERT INTO {{.S}}.retention_log (partition_name, range_from, range_to, floor, cutoff, row_count, min_id, max_id)
			VALUES (old[i], range_from, range_to, floor, cutoff, n_rows, min_id, max_id);
			action := 'dropped';
		END IF;
		RETURN NEXT;
	END LOOP;

	SELECT c.relname INTO partition_name
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = format('%I.%I', {{lit .Schema}}, {{lit .Table}})::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
	IF NOT FOUND THEN
		RETURN;
	END IF;
	EXECUTE format('SELECT count(*), min(id), max(id), min(occurred_at), max(occurred_at) FROM %I.%I', {{lit .Schema}}, partition_name)
		INTO n_rows, min_id, max_id, range_from, range_to;
	IF n_rows > 0 THEN
		action := 'default';
		detail := CASE WHEN dry THEN 'rows of months without a partition; never dropped: retention, run without --dry-run, moves those of a month AD 1 to 9999 into its partition (above), where they age like any other'
			ELSE 'rows of a time no monthly partition holds (infinite, before 1 AD or after 9999); never dropped' END;
		RETURN NEXT;
	END IF;
END
$ar$;
-- +goose StatementEnd

-- hold places a legal hold on a patient, or on a period [held_from, held_to) (an open end when NULL), and
-- returns its id. placed_by is the session's user, who placed it.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.hold(patient_id bigint, held_from timestamptz, held_to timestamptz, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
DECLARE
	new_id bigint;
BEGIN
	IF hold.reason IS NULL OR btrim(hold.reason) = '' THEN
		RAISE EXCEPTION 'a legal hold needs a reason' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (hold.patient_id IS NULL) = (held_from IS NULL AND held_to IS NULL) THEN
		RAISE EXCEPTION 'a legal hold is on a patient or on a period, not both or neither' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF held_from >= held_to THEN
		RAISE EXCEPTION 'legal hold period: % is not before %', held_from, held_to USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext({{lit .Schema}} || ' retention'));
	INSERT INTO {{.S}}.legal_holds (patient_id, period, reason)
	VALUES (hold.patient_id, CASE WHEN hold.patient_id IS NULL THEN tstzrange(held_from, held_to, '[)') END, hold.reason)
	RETURNING legal_holds.id INTO new_id;
	RETURN new_id;
END
$ar$;
-- +goose StatementEnd

-- release ends a legal hold; it reports whether the hold was active.
-- +goose StatementBegin
CREATE FUNCTION {{.S}}.release(hold_id bigint, why text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ar$
BEGIN
	IF why IS NULL OR btrim(why) = '' THEN
		RAISE EXCEPTION 'releasing legal hold % needs a reason', hold_id USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE {{.S}}.legal_holds SET released_at = now(), released_by = session_user, release_reason = why
	WHERE id = hold_id AND released_at IS NULL;
	RETURN FOUND;
END
$ar$;
-- +goose StatementEnd

-- Retention and holds are the owner role's (the migrating user's), never the application's or the reviewers'.
REVOKE ALL ON FUNCTION {{.S}}.retain(interval, boolean), {{.S}}.hold(bigint, timestamptz, timestamptz, text),
	{{.S}}.release(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {{.S}}.retain(interval, boolean), {{.S}}.hold(bigint, timestamptz, timestamptz, text),
	{{.S}}.release(bigint, text) TO {{ident .Owner}};
GRANT SELECT ON {{.S}}.legal_holds, {{.S}}.retention_log TO {{ident .Owner}}, {{ident .Reviewer}};
-- Verify (as the sealer too) accounts for the sealed rows retention dropped by retention_log.
GRANT SELECT ON {{.S}}.retention_log TO {{ident .Sealer}};
{{- end -}}
