-- name: CreateAppointment :one
INSERT INTO appointments (
      patient_id
    , status -- the first state
    , note
) VALUES (
      $1 -- the patient
    , $2 /* status, as given */
    -- the note may be NULL
    , $3
) RETURNING *;
