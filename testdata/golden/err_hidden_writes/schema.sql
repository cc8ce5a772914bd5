CREATE TABLE ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    amount      numeric NOT NULL
);

CREATE PROCEDURE wipe_ledger(patient bigint) LANGUAGE sql AS $$ DELETE FROM ledger WHERE patient_id = patient $$;
