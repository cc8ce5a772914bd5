CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    reason      text NOT NULL
);
