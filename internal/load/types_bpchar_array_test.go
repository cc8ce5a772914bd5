package load

import "testing"

// A migration that replaces an enum by a domain inside a DO block (the usual way to write an
// idempotent migration) is invisible to the generator, which keeps reading the column as the enum: exact, compared
// by IS DISTINCT FROM alone. Installing checks that verdict against the database's type seen through domains and
// arrays, but accepts a base of bpchar even under an array, and its padding check skips arrays: bpchar[]'s
// equality drops the elements' trailing spaces ('{a}' = '{"a  "}'), so a change of them writes no audit row.
func TestInstallRefusesExactVerdictOnBpcharArray(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `CREATE TYPE tooth_codes AS ENUM ('a', 'b'); CREATE TABLE visits (id bigint, codes tooth_codes);`,
		"2.sql": `DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_type WHERE typname = 'tooth_codes' AND typtype = 'e') THEN
    ALTER TABLE visits ALTER COLUMN codes TYPE text USING codes::text;
    DROP TYPE tooth_codes;
    CREATE DOMAIN tooth_codes AS bpchar[];
    ALTER TABLE visits ALTER COLUMN codes TYPE tooth_codes USING ARRAY[codes]::bpchar[];
  END IF;
END $$;`,
	})
	key := "public.visits.codes"
	if !in.ExactText[key] {
		t.Fatalf("precondition: the generator no longer reads %s as exact (ExactText)", key)
	}
	if len(refused) > 0 {
		return // refused: installing caught the verdict
	}
	var same bool
	if err := super.QueryRow(t.Context(), `SELECT NOT ('{a}'::tooth_codes IS DISTINCT FROM '{"a  "}'::tooth_codes)`).Scan(&same); err != nil {
		t.Fatal(err)
	}
	t.Errorf("installed: %s is compared by equality alone (ExactText, the generator reading it as the enum), but its type is a domain over bpchar[], whose equality holds '{a}' = '{\"a  \"}' (%v): a change of trailing spaces writes no audit row", key, same)
}
