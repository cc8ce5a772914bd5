-- +goose Up
-- A record's patient is the user its patient_id names (models.go): the key must refuse deleting or re-keying a
-- referenced user outright. NO ACTION, the default of ON UPDATE, lets one statement re-key a patient and give the
-- id to another user, handing over every record with no audit row of theirs; auditschema.InstallModels refuses a
-- patient column without such a key.
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_id_fkey,
    ADD CONSTRAINT appointments_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE dental_records DROP CONSTRAINT dental_records_patient_id_fkey,
    ADD CONSTRAINT dental_records_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE billings DROP CONSTRAINT billings_patient_id_fkey,
    ADD CONSTRAINT billings_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE treatment_plans DROP CONSTRAINT treatment_plans_patient_id_fkey,
    ADD CONSTRAINT treatment_plans_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE documents DROP CONSTRAINT documents_patient_id_fkey,
    ADD CONSTRAINT documents_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE patient_intake_forms DROP CONSTRAINT patient_intake_forms_patient_id_fkey,
    ADD CONSTRAINT patient_intake_forms_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT ON UPDATE RESTRICT;

-- +goose Down
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_id_fkey,
    ADD CONSTRAINT appointments_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
ALTER TABLE dental_records DROP CONSTRAINT dental_records_patient_id_fkey,
    ADD CONSTRAINT dental_records_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
ALTER TABLE billings DROP CONSTRAINT billings_patient_id_fkey,
    ADD CONSTRAINT billings_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
ALTER TABLE treatment_plans DROP CONSTRAINT treatment_plans_patient_id_fkey,
    ADD CONSTRAINT treatment_plans_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
ALTER TABLE documents DROP CONSTRAINT documents_patient_id_fkey,
    ADD CONSTRAINT documents_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
ALTER TABLE patient_intake_forms DROP CONSTRAINT patient_intake_forms_patient_id_fkey,
    ADD CONSTRAINT patient_intake_forms_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES users ON DELETE RESTRICT;
