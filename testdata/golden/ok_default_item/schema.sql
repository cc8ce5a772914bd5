CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    status      text NOT NULL,
    booked_at   timestamptz NOT NULL DEFAULT now(),
    note        text
);
