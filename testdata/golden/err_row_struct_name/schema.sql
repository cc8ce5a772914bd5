CREATE SCHEMA pharmacy;

CREATE TABLE pharmacy.customers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    name        text NOT NULL
);

CREATE TABLE prescriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    drug        text NOT NULL
);
