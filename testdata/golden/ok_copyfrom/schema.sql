CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    status      text NOT NULL DEFAULT 'new',
    note        text
);

CREATE TABLE rooms (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL
);
