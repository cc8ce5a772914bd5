-- name: CountOne :one
SELECT count(*) FROM intake_form_answer_revisions_kept_for_the_clinic_x_one;

-- name: CountTwo :one
SELECT count(*) FROM intake_form_answer_revisions_kept_for_the_clinic_x_two;
