CREATE TYPE visit_kind AS ENUM ('checkup', 'emergency');

CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    reason      text,
    seen_at     timestamptz,
    fee         numeric(10, 2),
    kind        visit_kind
);
