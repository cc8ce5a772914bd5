-- The practice's tables. Plain SQL, run in file-name order by migrations.Up, after auditschema.Install (which
-- creates the roles named below) and before repo.Install (which checks what the last two statements grant).
CREATE TABLE clients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    phone      text NOT NULL DEFAULT '',
    portal_pin text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pets (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES clients ON DELETE RESTRICT ON UPDATE RESTRICT,
    name      text NOT NULL,
    species   text NOT NULL
);

CREATE TABLE visits (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pet_id    bigint NOT NULL REFERENCES pets ON DELETE RESTRICT ON UPDATE RESTRICT,
    reason    text NOT NULL,
    diagnosis text NOT NULL DEFAULT ''
);
