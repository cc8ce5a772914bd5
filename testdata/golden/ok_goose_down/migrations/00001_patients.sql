-- +goose Up
CREATE TABLE patients (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    temp   numeric,
    chair  text
);

-- +goose Down
DROP TABLE patients;
