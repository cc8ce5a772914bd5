CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    status      text NOT NULL DEFAULT 'new',
    note        text
);

CREATE TABLE cancellations (
    appointment_id  bigint PRIMARY KEY,
    reason          text NOT NULL
);
