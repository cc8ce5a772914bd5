CREATE TABLE people (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    guardian_of  bigint REFERENCES people ON DELETE RESTRICT ON UPDATE RESTRICT
);

CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES people ON DELETE RESTRICT ON UPDATE RESTRICT
);

CREATE TABLE notes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id  bigint NOT NULL REFERENCES visits ON DELETE RESTRICT ON UPDATE RESTRICT,
    body      text NOT NULL
);

CREATE TABLE attachments (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note_id  bigint NOT NULL REFERENCES notes ON DELETE RESTRICT ON UPDATE RESTRICT,
    name     text NOT NULL
);

CREATE TABLE contacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people ON DELETE RESTRICT ON UPDATE RESTRICT,
    phone      text NOT NULL
);

CREATE TABLE referrals (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id  bigint NOT NULL REFERENCES visits ON DELETE RESTRICT ON UPDATE RESTRICT,
    reason    text NOT NULL
);

CREATE TABLE wards (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guardian_id  bigint NOT NULL REFERENCES people ON DELETE RESTRICT ON UPDATE RESTRICT
);
