CREATE TABLE "Chart Notes" (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "Patient"   bigint NOT NULL,
    "Body Text" text NOT NULL,
    "select"    text
);
