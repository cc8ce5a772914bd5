-- +goose Up
-- Temperatures become floats, chair positions points.
ALTER TABLE patients ALTER COLUMN temp TYPE double precision;
ALTER TABLE patients ALTER COLUMN chair TYPE point USING chair::point;

-- +goose Down
-- goose runs this only to roll the migration back; sqlc reads the Up section alone.
ALTER TABLE patients ALTER COLUMN temp TYPE numeric;
ALTER TABLE patients ALTER COLUMN chair TYPE text;
