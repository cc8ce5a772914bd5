package load

import "testing"

// DROP TYPE ... CASCADE drops the domains over the type too (and their columns); the generator keeps the domain,
// and a later unqualified name along a search path that lists its schema first resolves to it: the column, of
// public.level in the database, is typed clinic.level, and installing refuses a correct schema ("a type the
// database does not have").
func TestDropCascadeDropsDomainOverType(t *testing.T) {
	refused, in, _ := typeCheck(t, map[string]string{
		"1.sql": `CREATE SCHEMA clinic; CREATE TYPE mood AS ENUM ('calm'); CREATE DOMAIN clinic.level AS mood;`,
		"2.sql": `DROP TYPE mood CASCADE; CREATE DOMAIN level AS text;
SET search_path TO clinic, public;
CREATE TABLE public.visits (id bigint, l level);`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s (generator's type %q)", r, in.Types["public.visits.l"])
	}
}
