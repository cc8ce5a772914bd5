-- The database as goose up leaves it: migrations/ (sqlc's schema), Up sections only.
CREATE TABLE patients (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    temp   numeric,
    chair  text
);
ALTER TABLE patients ALTER COLUMN temp TYPE double precision;
ALTER TABLE patients ALTER COLUMN chair TYPE point USING chair::point;
