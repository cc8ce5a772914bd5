package sqlparse

import (
	"maps"
	"testing"
)

// A domain over a type (an array of it too), a range over it and the range's multirange go with it when it is
// dropped (DROP ... CASCADE, DROP SCHEMA, DROP TABLE of a row type), and so do the columns of them, as in
// PostgreSQL; a composite type stays (PostgreSQL drops its attribute), and so does a column of it. A later
// unqualified name then resolves past the types dropped. A domain or range over a type the files do not describe
// is unsure (it may be gone) after a DROP, RENAME or SET SCHEMA of a type of its base's name that the files do not
// make, or a DROP or RENAME of a schema its base may be in; so is a column of it, a domain over
// it, and a name that resolves to it. One over a builtin or a type of the files' is not.
func TestDropCascadeFollowsDependencies(t *testing.T) {
	rels := NewRelations()
	for _, text := range []string{
		`CREATE SCHEMA clinic; CREATE SCHEMA ward; CREATE TYPE mood AS ENUM ('calm');
		CREATE DOMAIN clinic.level AS mood; CREATE DOMAIN ward.levels AS clinic.level[]; CREATE TYPE clinic.pair AS (a mood, b int);
		CREATE TYPE ward.span AS RANGE (subtype = clinic.level); CREATE TABLE kept (m mood, l clinic.level, p clinic.pair, s ward.span, sm ward.span_multirange, ls ward.levels);
		CREATE TABLE rowt (id bigint); CREATE DOMAIN clinic.rowd AS rowt; CREATE TABLE usesrow (r clinic.rowd);
		CREATE SCHEMA gone; CREATE TYPE gone.base AS ENUM ('x'); CREATE DOMAIN ward.overgone AS gone.base; CREATE TABLE usesgone (g ward.overgone);
		CREATE DOMAIN ward.oncitext AS ext.citext; CREATE DOMAIN ward.onthing AS thing; CREATE DOMAIN ward.onother AS other;
		CREATE DOMAIN ward.ontext AS text; CREATE DOMAIN ward.onmine AS clinic.pair;
		CREATE TABLE early (c ward.oncitext, t ward.onthing, o ward.onother);`,
		`DROP TYPE mood CASCADE; DROP TABLE rowt CASCADE; DROP SCHEMA gone CASCADE;
		CREATE DOMAIN level AS text; CREATE DOMAIN public.span AS int4;
		DROP SCHEMA IF EXISTS ext CASCADE; DROP TYPE IF EXISTS public.thing CASCADE; DROP TYPE IF EXISTS elsewhere.other;
		CREATE DOMAIN ward.overcitext AS ward.oncitext;
		SET search_path TO clinic, ward, public;
		CREATE TABLE later (l level, s span, c oncitext, t onthing, o onother, x ontext, p pair, m onmine, oc overcitext);`,
	} {
		sc, err := ReadSchema(text)
		if err != nil {
			t.Fatal(err)
		}
		rels.Read(sc)
	}
	got := map[string]string{}
	for c, ct := range rels.Columns() {
		got[c.Table.Name+"."+c.Name] = ct.Resolved()
	}
	// usesrow stays, without its column; early.c and early.t may be gone, with their domains.
	want := map[string]string{"kept.p": "clinic.pair", "early.c": "", "early.t": "", "early.o": "ward.onother",
		"later.l": "public.level", "later.s": "public.span", "later.c": "", "later.t": "", "later.o": "ward.onother",
		"later.x": "ward.ontext", "later.p": "clinic.pair", "later.m": "ward.onmine", "later.oc": ""}
	if !maps.Equal(got, want) {
		t.Errorf("Columns() = %v\nwant %v", got, want)
	}
}

// DROP EXTENSION may drop any type the files do not describe: a domain over one is unsure after it, one over a
// builtin or a type of the files' is not.
func TestDropExtensionUnsure(t *testing.T) {
	sc, err := ReadSchema(`CREATE EXTENSION citext; CREATE TYPE mood AS ENUM ('calm'); CREATE DOMAIN oncitext AS citext;
		CREATE DOMAIN onmood AS mood; CREATE DOMAIN ontext AS pg_catalog.text; CREATE TABLE early (c oncitext);
		DROP EXTENSION citext CASCADE; CREATE TABLE later (c oncitext, m onmood, t ontext);`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for c, ct := range tableColumns(sc) {
		got[c.Table.Name+"."+c.Name] = ct.Resolved()
	}
	want := map[string]string{"early.c": "", "later.c": "", "later.m": "public.onmood", "later.t": "public.ontext"}
	if !maps.Equal(got, want) {
		t.Errorf("Columns() = %v\nwant %v", got, want)
	}
}
