-- The backstop: a change to a PHI table that does not come from the generated repositories (a hand-run
-- UPDATE, another program, a forgotten code path) still leaves one audit row per changed row, with actor
-- kind 'unattributed', and TRUNCATE, which no audit row could describe, is refused. Statement-level AFTER
-- triggers read the changed rows from transition tables and log them like the repositories would: same
-- images, same field classes, same patient path. A repository statement sets auditrepo.write to its table
-- (CTE ar_mark) whenever it writes audit rows; the trigger then resets the flag and writes nothing, so its
-- rows are not logged twice and the flag cannot cover a later statement. Run it after every migration, as
-- the owner of the tables: every statement replaces what a previous run installed.

CREATE OR REPLACE FUNCTION auditrepo_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	RAISE EXCEPTION 'TRUNCATE on PHI table % refused: its rows would leave no audit trail', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END
$ar$;

CREATE OR REPLACE FUNCTION auditrepo_backstop_users() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'users' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'users', n.id, CASE WHEN n.user_type = 'patient' THEN n.id END,
			jsonb_build_object('after', to_jsonb(n) - '{password,auth_token}'::text[])
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'users', coalesce(n.id, o.id), d.patient, NULLIF(CASE WHEN o.user_type = 'patient' THEN o.id END, d.patient),
			jsonb_build_object('before', to_jsonb(o) - '{password,auth_token}'::text[], 'after', to_jsonb(n) - '{password,auth_token}'::text[], 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT CASE WHEN n.user_type = 'patient' THEN n.id END AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.username IS DISTINCT FROM n.username THEN 'username' END,
			CASE WHEN o.email IS DISTINCT FROM n.email THEN 'email' END,
			CASE WHEN o.user_type IS DISTINCT FROM n.user_type THEN 'user_type' END,
			CASE WHEN o.role IS DISTINCT FROM n.role THEN 'role' END,
			CASE WHEN o.first_name IS DISTINCT FROM n.first_name THEN 'first_name' END,
			CASE WHEN o.last_name IS DISTINCT FROM n.last_name THEN 'last_name' END,
			CASE WHEN o.last_login IS DISTINCT FROM n.last_login THEN 'last_login' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,username,email,user_type,role,first_name,last_name}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'users', o.id, CASE WHEN o.user_type = 'patient' THEN o.id END,
			jsonb_build_object('deleted_record', to_jsonb(o) - '{password,auth_token}'::text[])
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON users
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_users();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON users
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_users();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON users
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_users();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_appointments() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'appointments' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'appointments', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n) || '{"notes": "[REDACTED]"}'::jsonb)
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'appointments', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o) || '{"notes": "[REDACTED]"}'::jsonb, 'after', to_jsonb(n) || '{"notes": "[REDACTED]"}'::jsonb, 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.dentist_id IS DISTINCT FROM n.dentist_id THEN 'dentist_id' END,
			CASE WHEN o.clinic_id IS DISTINCT FROM n.clinic_id THEN 'clinic_id' END,
			CASE WHEN o.date IS DISTINCT FROM n.date THEN 'date' END,
			CASE WHEN o.time IS DISTINCT FROM n.time THEN 'time' END,
			CASE WHEN o.type IS DISTINCT FROM n.type THEN 'type' END,
			CASE WHEN o.status IS DISTINCT FROM n.status THEN 'status' END,
			CASE WHEN o.notes IS DISTINCT FROM n.notes THEN 'notes' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,dentist_id,clinic_id,date,time,type,status,notes}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'appointments', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o) || '{"notes": "[REDACTED]"}'::jsonb)
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON appointments
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_appointments();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON appointments
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_appointments();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON appointments
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_appointments();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON appointments
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_dental_records() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'dental_records' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'dental_records', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n))
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'dental_records', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o), 'after', to_jsonb(n), 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.dentist_id IS DISTINCT FROM n.dentist_id THEN 'dentist_id' END,
			CASE WHEN o.diagnosis IS DISTINCT FROM n.diagnosis THEN 'diagnosis' END,
			CASE WHEN o.treatment IS DISTINCT FROM n.treatment THEN 'treatment' END,
			CASE WHEN o.notes IS DISTINCT FROM n.notes THEN 'notes' END,
			CASE WHEN o.created_at IS DISTINCT FROM n.created_at THEN 'created_at' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,dentist_id,diagnosis,treatment,notes}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'dental_records', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o))
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON dental_records
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_dental_records();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON dental_records
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_dental_records();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON dental_records
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_dental_records();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON dental_records
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_billings() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'billings' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'billings', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n))
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'billings', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o), 'after', to_jsonb(n), 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.amount IS DISTINCT FROM n.amount THEN 'amount' END,
			CASE WHEN o.status IS DISTINCT FROM n.status THEN 'status' END,
			CASE WHEN o.description IS DISTINCT FROM n.description THEN 'description' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,amount,status,description}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'billings', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o))
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON billings
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_billings();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON billings
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_billings();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON billings
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_billings();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON billings
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_invoices() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'invoices' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'invoices', n.id, (SELECT ar_h1.patient_id FROM appointments ar_h1 WHERE ar_h1.id = n.appointment_id),
			jsonb_build_object('after', to_jsonb(n))
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'invoices', coalesce(n.id, o.id), d.patient, NULLIF((SELECT ar_h1.patient_id FROM appointments ar_h1 WHERE ar_h1.id = o.appointment_id), d.patient),
			jsonb_build_object('before', to_jsonb(o), 'after', to_jsonb(n), 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT (SELECT ar_h1.patient_id FROM appointments ar_h1 WHERE ar_h1.id = n.appointment_id) AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.appointment_id IS DISTINCT FROM n.appointment_id THEN 'appointment_id' END,
			CASE WHEN o.amount IS DISTINCT FROM n.amount THEN 'amount' END,
			CASE WHEN o.status IS DISTINCT FROM n.status THEN 'status' END,
			CASE WHEN o.due_date IS DISTINCT FROM n.due_date THEN 'due_date' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,appointment_id,amount,status,due_date}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'invoices', o.id, (SELECT ar_h1.patient_id FROM appointments ar_h1 WHERE ar_h1.id = o.appointment_id),
			jsonb_build_object('deleted_record', to_jsonb(o))
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON invoices
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_invoices();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON invoices
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_invoices();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON invoices
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_invoices();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON invoices
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_treatment_plans() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'treatment_plans' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'treatment_plans', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n))
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'treatment_plans', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o), 'after', to_jsonb(n), 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.dentist_id IS DISTINCT FROM n.dentist_id THEN 'dentist_id' END,
			CASE WHEN o.title IS DISTINCT FROM n.title THEN 'title' END,
			CASE WHEN o.description IS DISTINCT FROM n.description THEN 'description' END,
			CASE WHEN o.status IS DISTINCT FROM n.status THEN 'status' END,
			CASE WHEN o.estimated_cost IS DISTINCT FROM n.estimated_cost THEN 'estimated_cost' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,dentist_id,title,description,status,estimated_cost}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'treatment_plans', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o))
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON treatment_plans
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_treatment_plans();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON treatment_plans
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_treatment_plans();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON treatment_plans
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_treatment_plans();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON treatment_plans
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_documents() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'documents' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'documents', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n))
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'documents', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o), 'after', to_jsonb(n), 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.document_type IS DISTINCT FROM n.document_type THEN 'document_type' END,
			CASE WHEN o.filename IS DISTINCT FROM n.filename THEN 'filename' END,
			CASE WHEN o.storage_path IS DISTINCT FROM n.storage_path THEN 'storage_path' END,
			CASE WHEN o.uploaded_at IS DISTINCT FROM n.uploaded_at THEN 'uploaded_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,document_type,filename,storage_path}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'documents', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o))
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON documents
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_documents();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON documents
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_documents();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON documents
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_documents();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON documents
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

CREATE OR REPLACE FUNCTION auditrepo_backstop_patient_intake_forms() RETURNS trigger LANGUAGE plpgsql AS $ar$
BEGIN
	IF current_setting('auditrepo.write', true) = 'patient_intake_forms' THEN
		PERFORM set_config('auditrepo.write', '', true);
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'CREATE', 'patient_intake_forms', n.id, n.patient_id,
			jsonb_build_object('after', to_jsonb(n) || '{"insurance_policy": "[REDACTED]"}'::jsonb)
		FROM ar_new n;
	ELSIF TG_OP = 'UPDATE' THEN
		-- Old and new rows pair up by id; a row whose id changed is logged as two halves.
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'UPDATE', 'patient_intake_forms', coalesce(n.id, o.id), d.patient, NULLIF(o.patient_id, d.patient),
			jsonb_build_object('before', to_jsonb(o) || '{"insurance_policy": "[REDACTED]"}'::jsonb, 'after', to_jsonb(n) || '{"insurance_policy": "[REDACTED]"}'::jsonb, 'changed_fields', to_jsonb(d.changed))
		FROM ar_new n
		FULL JOIN ar_old o ON o.id = n.id
		CROSS JOIN LATERAL (SELECT n.patient_id AS patient, array_remove(ARRAY[
			CASE WHEN o.id IS DISTINCT FROM n.id THEN 'id' END,
			CASE WHEN o.patient_id IS DISTINCT FROM n.patient_id THEN 'patient_id' END,
			CASE WHEN o.allergies IS DISTINCT FROM n.allergies THEN 'allergies' END,
			CASE WHEN o.medications IS DISTINCT FROM n.medications THEN 'medications' END,
			CASE WHEN o.medical_conditions IS DISTINCT FROM n.medical_conditions THEN 'medical_conditions' END,
			CASE WHEN o.emergency_contact IS DISTINCT FROM n.emergency_contact THEN 'emergency_contact' END,
			CASE WHEN o.emergency_phone IS DISTINCT FROM n.emergency_phone THEN 'emergency_phone' END,
			CASE WHEN o.insurance_provider IS DISTINCT FROM n.insurance_provider THEN 'insurance_provider' END,
			CASE WHEN o.insurance_policy IS DISTINCT FROM n.insurance_policy THEN 'insurance_policy' END,
			CASE WHEN o.smoker IS DISTINCT FROM n.smoker THEN 'smoker' END,
			CASE WHEN o.pregnant IS DISTINCT FROM n.pregnant THEN 'pregnant' END,
			CASE WHEN o.signed_at IS DISTINCT FROM n.signed_at THEN 'signed_at' END,
			CASE WHEN o.updated_at IS DISTINCT FROM n.updated_at THEN 'updated_at' END
		], NULL) AS changed) d
		-- A change that touches only nonphi fields writes no audit row.
		WHERE d.changed && '{id,patient_id,allergies,medications,medical_conditions,emergency_contact,emergency_phone,insurance_provider,insurance_policy,smoker,pregnant,signed_at}'::text[];
	ELSE
		INSERT INTO public.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes)
		SELECT NULL, 'unattributed', inet_client_addr(), 'db role ' || current_user || coalesce(', application ' || nullif(current_setting('application_name', true), ''), ''), NULL, 'DELETE', 'patient_intake_forms', o.id, o.patient_id,
			jsonb_build_object('deleted_record', to_jsonb(o) || '{"insurance_policy": "[REDACTED]"}'::jsonb)
		FROM ar_old o;
	END IF;
	RETURN NULL;
END
$ar$;
CREATE OR REPLACE TRIGGER auditrepo_backstop_insert AFTER INSERT ON patient_intake_forms
	REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_patient_intake_forms();
CREATE OR REPLACE TRIGGER auditrepo_backstop_update AFTER UPDATE ON patient_intake_forms
	REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_patient_intake_forms();
CREATE OR REPLACE TRIGGER auditrepo_backstop_delete AFTER DELETE ON patient_intake_forms
	REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_backstop_patient_intake_forms();
CREATE OR REPLACE TRIGGER auditrepo_backstop_truncate BEFORE TRUNCATE ON patient_intake_forms
	FOR EACH STATEMENT EXECUTE FUNCTION auditrepo_refuse_truncate();

