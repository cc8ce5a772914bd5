CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    status      text NOT NULL DEFAULT 'new',
    note        text
);

CREATE TABLE billings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id  bigint NOT NULL REFERENCES appointments ON DELETE RESTRICT ON UPDATE RESTRICT,
    amount          numeric(10, 2) NOT NULL
);
