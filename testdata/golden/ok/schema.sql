-- A small schema exercising every tag form and generation error of auditrepo-gen's golden tests.
CREATE TABLE people (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    secret     text NOT NULL,
    seen_at    timestamptz
);

CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES people ON DELETE RESTRICT ON UPDATE RESTRICT,
    reason      text NOT NULL,
    note        text NOT NULL DEFAULT '',
    "time"      time,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Types without an equality operator: changes to them are found on their text form.
    intake      json,
    chair       point,
    -- A float: its text and JSON follow extra_float_digits, which the trigger function pins.
    temp        double precision,
    -- bpchar (char with no length): its equality and its text drop trailing spaces, which its image keeps.
    tooth       bpchar
);

CREATE TABLE claims (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id  bigint NOT NULL REFERENCES visits ON DELETE RESTRICT ON UPDATE RESTRICT,
    amount    numeric(10, 2) NOT NULL
);

-- An enum: sqlc gives it a Go type of its own (and a Null type for the nullable column), which
-- CreateClaimLineMany sends as text.
CREATE TYPE claim_line_kind AS ENUM ('procedure', 'material');

CREATE TABLE claim_lines (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id  bigint NOT NULL REFERENCES claims ON DELETE RESTRICT ON UPDATE RESTRICT,
    code      text NOT NULL,
    kind      claim_line_kind NOT NULL DEFAULT 'procedure',
    billed_as claim_line_kind
);

-- Only the err_uncovered case declares ledger as PHI: its queries cannot be wrapped.
CREATE TABLE ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    amount      numeric NOT NULL,
    memo        jsonb
);
