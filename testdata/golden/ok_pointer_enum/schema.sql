-- A nullable enum column under emit_pointers_for_null_types: sqlc's Go type for it is a pointer to the enum's
-- type (*db.VisitKind), which CreateVisitMany sends as text, as it does sqlc's Null type without the option.
CREATE TYPE visit_kind AS ENUM ('checkup', 'cleaning', 'surgery');

CREATE TABLE visits (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   bigint NOT NULL,
    kind         visit_kind NOT NULL,
    followup_of  visit_kind,
    note         text
);
