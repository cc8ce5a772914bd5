-- +goose Up
-- The clinic's tables. Every foreign key between PHI tables is ON DELETE RESTRICT: a cascade would
-- remove rows without going through the audited repositories, leaving no audit row behind.

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    text NOT NULL UNIQUE,
    email       text NOT NULL,
    password    text NOT NULL,
    auth_token  text,
    user_type   text NOT NULL CHECK (user_type IN ('patient', 'staff')),
    role        text NOT NULL DEFAULT '',
    first_name  text NOT NULL DEFAULT '',
    last_name   text NOT NULL DEFAULT '',
    last_login  timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clinic_locations (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name     text NOT NULL,
    address  text NOT NULL
);

CREATE TABLE appointments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    dentist_id  bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    clinic_id   bigint REFERENCES clinic_locations ON DELETE RESTRICT,
    date        date NOT NULL,
    time        time NOT NULL,
    type        text NOT NULL,
    status      text NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no_show')),
    notes       text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appointments_patient_id ON appointments (patient_id);

CREATE TABLE dental_records (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    dentist_id  bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    diagnosis   text NOT NULL,
    treatment   text NOT NULL DEFAULT '',
    notes       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dental_records_patient_id ON dental_records (patient_id);

CREATE TABLE billings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    amount       numeric(12, 2) NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'void')),
    description  text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billings_patient_id ON billings (patient_id);

CREATE TABLE invoices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id  bigint NOT NULL REFERENCES appointments ON DELETE RESTRICT,
    amount          numeric(12, 2) NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
    due_date        date NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_appointment_id ON invoices (appointment_id);

CREATE TABLE treatment_plans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    dentist_id      bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'proposed'
                    CHECK (status IN ('proposed', 'accepted', 'in_progress', 'completed', 'declined')),
    estimated_cost  numeric(12, 2),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX treatment_plans_patient_id ON treatment_plans (patient_id);

-- The file itself lives in object storage; the database (and so the audit trail) keeps only its path.
CREATE TABLE documents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    document_type  text NOT NULL,
    filename       text NOT NULL,
    storage_path   text NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_patient_id ON documents (patient_id);

CREATE TABLE patient_intake_forms (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id           bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    allergies            text NOT NULL DEFAULT '',
    medications          text NOT NULL DEFAULT '',
    medical_conditions   text NOT NULL DEFAULT '',
    emergency_contact    text NOT NULL DEFAULT '',
    emergency_phone      text NOT NULL DEFAULT '',
    insurance_provider   text NOT NULL DEFAULT '',
    insurance_policy     text NOT NULL DEFAULT '',
    smoker               boolean NOT NULL DEFAULT false,
    pregnant             boolean,
    signed_at            timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_intake_forms_patient_id ON patient_intake_forms (patient_id);

-- +goose Down
DROP TABLE patient_intake_forms, documents, treatment_plans, invoices, billings, dental_records,
    appointments, clinic_locations, users;
