CREATE TABLE ledger_stage (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    amount      numeric NOT NULL
);

-- A view renamed after it was created: sqlc follows the rename (ALTER VIEW ... RENAME TO), so queries may
-- write ledger_view, which PostgreSQL runs on ledger.
CREATE VIEW ledger_view_v1 AS SELECT id, patient_id, amount FROM ledger_stage;
ALTER VIEW ledger_view_v1 RENAME TO ledger_view;
-- A view of a table that is renamed afterwards: the view keeps reading it under its new name, ledger.
CREATE VIEW staged AS SELECT id, patient_id, amount FROM ledger_stage;
ALTER TABLE ledger_stage RENAME TO ledger;
-- A view moved to another schema.
CREATE SCHEMA ward;
CREATE VIEW moved AS SELECT id, patient_id, amount FROM ledger;
ALTER VIEW moved SET SCHEMA ward;
