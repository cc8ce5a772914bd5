CREATE TABLE ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    amount      numeric NOT NULL
);

-- A relation that is neither a table nor a view (PostgreSQL refuses writes to a materialized view; sqlc does not):
-- what a write to one reaches, the generator does not follow.
CREATE MATERIALIZED VIEW ledger_totals AS SELECT patient_id, sum(amount) AS amount FROM ledger GROUP BY patient_id;
