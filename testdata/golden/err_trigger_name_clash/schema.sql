CREATE TABLE intake_form_answer_revisions_kept_for_the_clinic_x_one (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL
);

CREATE TABLE intake_form_answer_revisions_kept_for_the_clinic_x_two (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL
);
