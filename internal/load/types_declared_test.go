package load

import "testing"

// The generator's declared types against the database that the same schema files make.

// ALTER SCHEMA ... RENAME TO moves the schema's types with it, as it moves its tables (which Relations follows):
// a column declared of app.mood is of core.mood once app is renamed core. Installing must not refuse the column
// as of "a type the database does not have".
func TestTypesFollowSchemaRename(t *testing.T) {
	refused, _, _ := typeCheck(t, map[string]string{
		"1_types.sql":  `CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('calm'); CREATE DOMAIN app.ints AS int[];`,
		"2_tables.sql": `CREATE TABLE visits (id bigint, mood app.mood, teeth app.ints);`,
		"3_rename.sql": `ALTER SCHEMA app RENAME TO core;`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
}

// A table's row type is a type named as the table: renaming the table (or its schema) renames the type. A column
// declared of the old name is of the renamed type; installing must not refuse it.
func TestRowTypeFollowsTableRename(t *testing.T) {
	refused, _, _ := typeCheck(t, map[string]string{
		"1.sql": `CREATE TABLE addresses (id bigint, street text); CREATE TABLE people (id bigint, home addresses);`,
		"2.sql": `ALTER TABLE addresses RENAME TO postal_addresses;`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
}

// A migration that sets search_path before CREATE TYPE creates the type in that schema; a column declared of
// the unqualified name, under that search_path, is of it. Installing refuses it as "a type the database does not
// have", which it has.
func TestSearchPathTypeNotRefused(t *testing.T) {
	refused, _, _ := typeCheck(t, map[string]string{
		"1.sql": `CREATE SCHEMA clinic; SET search_path TO clinic, public; CREATE TYPE mood AS ENUM ('calm');
CREATE TABLE public.visits (id bigint, mood mood);`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
}

// The wrong acceptance behind the schema-rename gap: a schema swap (staging renamed into place) leaves app.mood a
// citext domain, but the generator, which records app.mood as the enum the old app schema had, compares the
// column by equality alone: a change of case writes no audit row. Installing accepts it (app.mood is the type).
func TestSchemaSwapDoesNotMakeCitextExact(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA staging; CREATE DOMAIN staging.mood AS citext;
CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('calm');`,
		"2.sql": `ALTER SCHEMA app RENAME TO archive; ALTER SCHEMA staging RENAME TO app;
CREATE TABLE visits (id bigint, mood app.mood);`,
	})
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("installed, but misread: %s", m)
	}
}

// Likewise through search_path: an enum created under SET search_path is recorded as public's, where a citext
// domain of the same name is what the column (created after RESET) has.
func TestSearchPathEnumDoesNotMakeCitextExact(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `CREATE EXTENSION IF NOT EXISTS citext; CREATE DOMAIN mood AS citext;
CREATE SCHEMA app; SET search_path TO app, public; CREATE TYPE mood AS ENUM ('calm'); RESET search_path;
CREATE TABLE visits (id bigint, mood mood);`,
	})
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("installed, but misread: %s", m)
	}
}

// A domain over bpchar (unbounded char): its equality and text drop trailing spaces, as bpchar's do, and its
// values keep them; the generator does not compare its length, and installing accepts it.
func TestDomainOverBpcharIsPadded(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `CREATE DOMAIN tooth_code AS bpchar; CREATE TABLE visits (id bigint, tooth tooth_code);`,
	})
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("installed, but misread: %s", m)
	}
}

// An extension installed in its own schema (Supabase's "extensions", on the roles' search_path): a column declared
// citext, unqualified, is of extensions.citext. The generator cannot tell whether pg_catalog, searched first, has a
// citext: it does not check the column by name (it reads it as no text it knows: compared by its bytes too).
func TestExtensionSchemaTypeNotRefused(t *testing.T) {
	refused, _, _ := typeCheck(t, map[string]string{
		"1.sql": `CREATE SCHEMA extensions; CREATE EXTENSION citext SCHEMA extensions; SET search_path TO public, extensions;
CREATE TABLE people (id bigint, email citext);`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
}

// Control: the many built-in, qualified, quoted, array, domain, enum, composite, range and extension types a
// schema may declare, with typmods, serials, identity and generated columns, install without a refusal and are
// read right (this holds on current main).
func TestManyTypesInstall(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{"1.sql": `
CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore;
CREATE SCHEMA app; CREATE SCHEMA "Other.Schema"; CREATE SCHEMA "my schema";
CREATE TYPE "Other.Schema"."Mood" AS ENUM ('a'); CREATE TYPE "my schema".kind AS ENUM ('a');
CREATE TYPE "Status" AS ENUM ('a'); CREATE TYPE level AS ENUM ('a'); CREATE TYPE "user" AS ENUM ('a'); CREATE TYPE "my type" AS ENUM ('a');
CREATE DOMAIN app.ints AS int[]; CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE addr AS (street text, zip varchar(5)); CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TABLE things (id bigint);
CREATE TABLE t (
 a numeric(10,2), b varchar(20), c timestamp(3) with time zone, d time(0), e interval day to second, f bit(8), g bit varying,
 h int[], i int[][], j text ARRAY, k varchar(5)[], l "char", m char, n name, o int4range, p int4multirange, q money, r uuid, s xml,
 u tsvector, v inet, w cidr, x macaddr8, y serial, z bigserial, aa smallserial, ab bigint GENERATED ALWAYS AS IDENTITY,
 ac bigint GENERATED ALWAYS AS (y * 2) STORED, ad citext, ae hstore, af public.citext, ag "Other.Schema"."Mood", ah "Other.Schema"."Mood"[],
 ai "my schema".kind, aj "Status", ak level, al "user", am "my type", an app.ints, ao posint, ap posint[], aq addr, ar things,
 as_ floatrange, at_ floatmultirange, au double precision[], av float(24), aw decimal, ax national character varying(3), ay nchar(2),
 az interval year, ba regclass, bb pg_lsn, bc "timestamp", bd int8[3], be double precision ARRAY[4], bf varchar(3) COLLATE "C",
 bg timestamptz(2), bh character varying, bi bit, bj "int4", bk pg_catalog.text, bl pg_catalog."varchar", bm citext[], bn "Status"[],
 bo information_schema.sql_identifier, bp boolean, bq real, br jsonb, bs json, bt bytea, bu date, bv timetz, bw box, bx oid,
 by_ txid_snapshot, bz "public"."Status", ca "char"[], cb int2vector, cc tsquery, cd macaddr, ce int8range[], cf pg_catalog.int4[]
);`})
	for _, r := range refused {
		t.Errorf("refused: %s", r)
	}
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("misread: %s", m)
	}
}

// DROP TYPE ... CASCADE drops the columns of the type; a type made again under the name, and a column of it, are
// the new type's. ALTER DOMAIN ... SET SCHEMA, ALTER TYPE ... RENAME TO of a composite, a range's multirange.
func TestTypesFollowDropsAndMoves(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `CREATE EXTENSION IF NOT EXISTS citext; CREATE SCHEMA ward;
CREATE TYPE mood AS ENUM ('calm'); CREATE DOMAIN code AS citext; CREATE TYPE pair AS (a int, b text);
CREATE TYPE floatspan AS RANGE (subtype = float8);
CREATE TABLE visits (id bigint, mood mood, code code, pair pair, spans floatspan_multirange, old mood);`,
		"2.sql": `DROP TYPE mood CASCADE; CREATE DOMAIN mood AS citext; ALTER TABLE visits ADD COLUMN mood mood;
ALTER DOMAIN code SET SCHEMA ward; ALTER TYPE pair RENAME TO couple; ALTER TYPE floatspan RENAME TO fspan;`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("installed, but misread: %s", m)
	}
	want := map[string]string{"public.visits.id": "pg_catalog.int8", "public.visits.mood": "public.mood",
		"public.visits.code": "ward.code", "public.visits.pair": "public.couple", "public.visits.spans": "public.floatspan_multirange"}
	if len(in.Types) != len(want) {
		t.Errorf("Types = %v, want %v", in.Types, want)
	}
	for k, v := range want {
		if in.Types[k] != v {
			t.Errorf("Types[%s] = %q, want %q", k, in.Types[k], v)
		}
	}
}

// pg_dump's schema: its set_config of search_path to the empty path (every name qualified); and a migration's
// SET LOCAL, which holds until its transaction's COMMIT (or its file's end), while a session's SET holds for the
// later files.
func TestSearchPathSettings(t *testing.T) {
	refused, in, super := typeCheck(t, map[string]string{
		"1.sql": `SELECT pg_catalog.set_config('search_path', '', false);
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public; CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('calm');
CREATE DOMAIN public.mood AS public.citext; CREATE TABLE public.dumped (id bigint, mood app.mood, other public.mood);`,
		"2.sql": `RESET search_path; CREATE SCHEMA ward;
BEGIN; SET LOCAL search_path TO ward; CREATE TYPE level AS ENUM ('low'); COMMIT;
CREATE DOMAIN level AS citext; CREATE TABLE checked (id bigint, level level);
SET search_path = ward, public; CREATE TYPE kind AS ENUM ('k');`,
		"3.sql": `CREATE TABLE public.later (id bigint, level level, kind kind);`,
	})
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
	for _, m := range misread(t, in, super, refused) {
		t.Errorf("installed, but misread: %s", m)
	}
	want := map[string]string{"public.dumped.mood": "app.mood", "public.dumped.other": "public.mood",
		"public.checked.level": "public.level", "public.later.level": "ward.level", "public.later.kind": "ward.kind"}
	for k, v := range want {
		if in.Types[k] != v {
			t.Errorf("Types[%s] = %q, want %q", k, in.Types[k], v)
		}
	}
	for _, k := range []string{"public.dumped.mood", "public.later.level", "public.later.kind"} {
		if !in.ExactText[k] {
			t.Errorf("%s, an enum, is not compared by equality alone", k)
		}
	}
}

// A column declared citext unqualified, with the extension in public, is checked by its name alone, which installing
// resolves in pg_catalog, else public: it installs. Only a type of the files' is qualified.
func TestBareExtensionTypeIsChecked(t *testing.T) {
	refused, in, _ := typeCheck(t, map[string]string{
		"1.sql": `CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE people (id bigint, email citext, note text, n int4);`,
	})
	want := map[string]string{"public.people.id": "pg_catalog.int8", "public.people.email": "citext",
		"public.people.note": "text", "public.people.n": "int4"}
	for _, r := range refused {
		t.Errorf("a correct install is refused: %s", r)
	}
	for k, v := range want {
		if in.Types[k] != v {
			t.Errorf("Types[%s] = %q, want %q", k, in.Types[k], v)
		}
	}
	// With an extension in its own schema, built-in names are still checked by name.
	_, in, _ = typeCheck(t, map[string]string{
		"1.sql": `CREATE SCHEMA extensions; CREATE EXTENSION IF NOT EXISTS hstore SCHEMA extensions;
CREATE TABLE people (id bigint, tags extensions.hstore, note text, n int4, u uuid);`,
	})
	want = map[string]string{"public.people.id": "pg_catalog.int8", "public.people.tags": "extensions.hstore",
		"public.people.note": "text", "public.people.n": "int4", "public.people.u": "uuid"}
	for k, v := range want {
		if in.Types[k] != v {
			t.Errorf("Types[%s] = %q, want %q", k, in.Types[k], v)
		}
	}
}
