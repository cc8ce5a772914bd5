CREATE TABLE people (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    secret     text NOT NULL,
    seen_at    timestamptz
);
