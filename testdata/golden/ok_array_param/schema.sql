-- An array column and a bytea column: their parameters ([]string, []byte) have no PostgreSQL array type that
-- unnest could take, so their INSERT :one gets Create without CreateMany; the json column passed as text keeps
-- its CreateMany.
CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    tags        text[] NOT NULL,
    scan        bytea,
    intake      json
);
