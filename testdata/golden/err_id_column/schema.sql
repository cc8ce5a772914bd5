-- Tables without a bigint id: the audit rows name their target by it.
CREATE TABLE records (
    key         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL
);

CREATE TABLE charts (
    id          text PRIMARY KEY,
    patient_id  bigint NOT NULL
);
