-- sqlc's emit_exported_queries (its SQL constants named as its methods) and query_parameter_limit (up to that
-- many parameters as arguments of their own, more in a Params struct).
CREATE TABLE people (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    text NOT NULL,
    secret  text NOT NULL,
    note    text
);
