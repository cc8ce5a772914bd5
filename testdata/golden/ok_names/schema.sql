-- Names that collide in the generated package: models whose files would be the bundle's (repo.go) and the
-- install file's (install.go) or built on Linux only (process_linux.go), and columns whose parameters have the names
-- of the method's receiver, variables and packages.
CREATE TABLE repos (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE installs (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE process_linux (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE things (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    r      bigint NOT NULL,
    db     bigint NOT NULL,
    audit  text NOT NULL,
    err    text NOT NULL,
    call   text NOT NULL
);
