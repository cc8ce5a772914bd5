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
// citext, unqualified, is of extensions.citext. Installing refuses it as "a type the database does not have".
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
