CREATE TABLE allergies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    allergies   text NOT NULL
);
