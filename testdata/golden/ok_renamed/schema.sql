-- The table is created under another name and renamed, and its char columns renamed: their declarations follow
-- them, so the generator knows tooth (bpchar) is padded, an image-only change of its trailing spaces being a
-- change, and installing checks every column's type, grade's char(3) among them.
CREATE TABLE dental_old (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL,
    surface     bpchar,
    label       char(3),
    note        text
);
ALTER TABLE dental_old RENAME TO charts;
ALTER TABLE charts RENAME COLUMN surface TO tooth;
ALTER TABLE charts RENAME COLUMN label TO grade;
