CREATE TABLE ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    amount      numeric NOT NULL
);

-- Updatable views of the PHI table: PostgreSQL runs writes through them on ledger.
CREATE VIEW ledger_view AS SELECT id, patient_id, amount FROM ledger;
CREATE VIEW big_ledger AS SELECT * FROM ledger_view WHERE amount > 100;
