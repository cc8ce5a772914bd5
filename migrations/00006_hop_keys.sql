-- +goose Up
-- An invoice's patient is found through its appointment (models.go): the key must refuse deleting or re-keying a
-- referenced appointment outright. NO ACTION, the default of ON UPDATE, lets a statement re-key an appointment and
-- give its id to another row (of another patient), moving the invoices with no audit row; auditschema.InstallModels
-- refuses a patient path through such a key.
ALTER TABLE invoices DROP CONSTRAINT invoices_appointment_id_fkey,
    ADD CONSTRAINT invoices_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES appointments
        ON DELETE RESTRICT ON UPDATE RESTRICT;

-- +goose Down
ALTER TABLE invoices DROP CONSTRAINT invoices_appointment_id_fkey,
    ADD CONSTRAINT invoices_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES appointments ON DELETE RESTRICT;
