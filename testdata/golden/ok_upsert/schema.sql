CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    slot        text NOT NULL UNIQUE,
    status      text NOT NULL
);
