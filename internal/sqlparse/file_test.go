package sqlparse

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

// Relations names the tables as the catalog has them: unquoted names folded, quoted ones kept, unqualified ones
// in public; a rename or a move replaces the name, a drop removes it.
func TestCreatedTables(t *testing.T) {
	rels := NewRelations()
	sc, err := ReadSchema(`CREATE TABLE Visits (id bigint); CREATE TABLE "Chart Notes" (id bigint);
		CREATE TABLE clinic.rooms (id bigint); CREATE TABLE copy AS SELECT 1; CREATE VIEW v AS SELECT 1;
		CREATE MATERIALIZED VIEW mv AS SELECT 1; CREATE TABLE gone (id bigint); CREATE TABLE stays (id bigint);
		ALTER TABLE visits RENAME TO appointments; DROP TABLE rooms, gone; CREATE TABLE IF NOT EXISTS stays AS SELECT 1;
		CREATE TABLE moving (id bigint); ALTER TABLE moving SET SCHEMA clinic;`)
	if err != nil {
		t.Fatal(err)
	}
	rels.Read(sc)
	want := map[Table]bool{{"public", "appointments"}: true, {"public", "Chart Notes"}: true, {"clinic", "rooms"}: true,
		{"public", "copy"}: true, {"public", "stays"}: true, {"clinic", "moving"}: true}
	if got := rels.Tables(); !maps.Equal(got, want) {
		t.Errorf("Tables() = %v; want %v", got, want)
	}
	var pe *Error
	if _, err := ReadSchema("CREATE TABLE (;"); !errors.As(err, &pe) || pe.Offset != 13 {
		t.Errorf("a syntax error: %v, want an *Error at byte 13", err)
	}
}

// TestViewsFollowRenames: a view reads the relations it was made on, whatever they are renamed or moved to later
// (ALTER TABLE renames or moves a view too), across files; CREATE OR REPLACE makes it read its new query's; a
// drop with CASCADE drops the views reading what it drops, as does dropping their schema.
func TestViewsFollowRenames(t *testing.T) {
	rels := NewRelations()
	for _, text := range []string{
		`CREATE TABLE stage (id bigint); CREATE TABLE other (id bigint);
		CREATE VIEW v1 AS WITH w AS (SELECT id FROM stage) SELECT id FROM w;
		CREATE VIEW over_v1 AS SELECT id FROM v1;
		CREATE VIEW replaced AS SELECT id FROM stage;
		CREATE OR REPLACE VIEW replaced AS SELECT id FROM other;
		CREATE VIEW cascaded AS SELECT id FROM other;
		CREATE SCHEMA ward; CREATE VIEW ward.dropped AS SELECT id FROM stage;`,
		`ALTER VIEW v1 RENAME TO v; ALTER TABLE stage RENAME TO ledger; ALTER TABLE over_v1 SET SCHEMA ward;
		CREATE SCHEMA clinic; ALTER TABLE ledger SET SCHEMA clinic; ALTER VIEW replaced RENAME TO kept;
		DROP TABLE other CASCADE; CREATE TABLE other (id bigint); DROP SCHEMA ward CASCADE;
		CREATE SCHEMA ward; CREATE VIEW ward.later AS SELECT id FROM clinic.ledger; ALTER SCHEMA ward RENAME TO annex;`,
	} {
		sc, err := ReadSchema(text)
		if err != nil {
			t.Fatal(err)
		}
		rels.Read(sc)
	}
	got := rels.Views()
	want := map[Table][]Table{
		{"public", "v"}:    {{"clinic", "ledger"}, {"public", "w"}},
		{"annex", "later"}: {{"clinic", "ledger"}},
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Views() = %v\nwant %v", got, want)
	}
	if tables := rels.Tables(); !maps.Equal(tables, map[Table]bool{{"clinic", "ledger"}: true, {"public", "other"}: true}) {
		t.Errorf("Tables() = %v", tables)
	}
}

// Text, varchar and char columns without a COLLATE clause compare byte for byte, and so do the enums the schema
// creates, renamed or moved since; citext, a collation, an array, a domain, any other type, or a column retyped
// later do not; nor does a column of a type renamed away from its name before an enum took that name.
func TestColumnTypes(t *testing.T) {
	sc, err := ReadSchema(`CREATE TYPE mood AS ENUM ('calm'); CREATE SCHEMA clinic; CREATE TYPE clinic.level AS ENUM ('low');
		CREATE TYPE was AS ENUM ('x'); ALTER TYPE was RENAME TO renamed; CREATE DOMAIN short AS text;
		CREATE DOMAIN tone AS citext; CREATE TYPE shifted AS ENUM ('y');
		CREATE TYPE pair AS (a int, b int); CREATE TYPE span AS RANGE (subtype = int4);
		CREATE TABLE people (id bigint, name text, code varchar(8), initials char(2),
			email citext, nick text COLLATE nocase, tags text[], kind mood, notes text, lvl clinic.level,
			moods mood[], m2 mood COLLATE "C", old renamed, s short, p pair, r span, t tone, sh shifted);
		ALTER DOMAIN tone RENAME TO tone_old; CREATE TYPE tone AS ENUM ('calm');
		ALTER TYPE shifted SET SCHEMA clinic; CREATE TYPE shifted AS ENUM ('z');
		ALTER TABLE people ADD COLUMN alias character varying, ALTER COLUMN notes TYPE citext, ADD COLUMN t2 tone;
		CREATE TABLE clinic.rooms (label pg_catalog.text)`)
	if err != nil {
		t.Fatal(err)
	}
	people := Table{"public", "people"}
	exact := map[Column]bool{}
	for c, ct := range tableColumns(sc) {
		exact[c] = ct.Exact()
	}
	want := map[Column]bool{{people, "id"}: false, {people, "name"}: true, {people, "code"}: true, {people, "initials"}: true,
		{people, "email"}: false, {people, "nick"}: false, {people, "tags"}: false, {people, "kind"}: true,
		{people, "notes"}: false, {people, "alias"}: true, {people, "lvl"}: true, {people, "moods"}: false,
		{people, "m2"}: false, {people, "old"}: true, {people, "s"}: false, {people, "p"}: false, {people, "r"}: false,
		// Still the citext domain, renamed, though an enum took its name; the enum moved to clinic, still an enum;
		// the enum that took tone's name.
		{people, "t"}: false, {people, "sh"}: true, {people, "t2"}: true,
		{Table{"clinic", "rooms"}, "label"}: true}
	if !maps.Equal(exact, want) {
		t.Errorf("exact equality of the columns = %v\nwant %v", exact, want)
	}
	got := map[string]string{}
	for c, ct := range tableColumns(sc) {
		if c.Table == people {
			got[c.Name] = ct.Resolved()
		}
	}
	for c, typ := range map[string]string{"t": "public.tone_old", "sh": "clinic.shifted", "t2": "public.tone", "old": "public.renamed",
		"kind": "public.mood", "moods": "public.mood[]", "lvl": "clinic.level", "p": "public.pair", "r": "public.span"} {
		if got[c] != typ {
			t.Errorf("Resolved of %s = %q, want %q", c, got[c], typ)
		}
	}
}

// Built-in types that print no float, and the enums the schema creates (arrays of them too, renamed too), print the
// same whatever extra_float_digits is; floats, geometric types, domains, composites, ranges and extensions' types
// may not (a domain that took a renamed enum's name too).
func TestFloatFree(t *testing.T) {
	sc, err := ReadSchema(`CREATE TYPE mood AS ENUM ('calm'); CREATE DOMAIN temp AS float8; CREATE TYPE pair AS (a float8);
		CREATE TYPE was AS ENUM ('x'); ALTER TYPE was RENAME TO renamed; CREATE DOMAIN was AS float8;
		CREATE TABLE t (id bigint, n integer, s text COLLATE "C", tags text[], at timestamptz, at2 timestamp with time zone,
			amount numeric(10, 2), k mood, ks mood[], q pg_catalog.float8, d double precision, r real, f float, f4 float(10),
			p point, ps point[], b box, c circle, tmp temp, pr pair, old renamed, e citext, x public.mood, y other.mood,
			j jsonb, u uuid, ok boolean, wasnow was)`)
	if err != nil {
		t.Fatal(err)
	}
	free := map[string]bool{}
	for c, ct := range tableColumns(sc) {
		free[c.Name] = ct.FloatFree()
	}
	want := map[string]bool{"id": true, "n": true, "s": true, "tags": true, "at": true, "at2": true, "amount": true, "k": true,
		"ks": true, "q": false, "d": false, "r": false, "f": false, "f4": false, "p": false, "ps": false, "b": false, "c": false,
		"tmp": false, "pr": false, "old": true, "wasnow": false, "e": false, "x": true, "y": false, "j": true, "u": true, "ok": true}
	if !maps.Equal(free, want) {
		t.Errorf("FloatFree of the columns = %v\nwant %v", free, want)
	}
}

// Char columns, bounded or not, spelled bpchar, char or character, with a collation too, are padded (their equality
// and text drop trailing spaces); arrays of them (whose text keeps the spaces), text, varchar and domains are not.
func TestPadded(t *testing.T) {
	sc, err := ReadSchema(`CREATE DOMAIN code AS bpchar;
		CREATE TABLE t (a bpchar, b pg_catalog.bpchar, c char(3), d character, e bpchar COLLATE "C", f bpchar[], g text,
			h varchar, i code, j public.bpchar)`)
	if err != nil {
		t.Fatal(err)
	}
	padded := map[string]bool{}
	for c, ct := range tableColumns(sc) {
		padded[c.Name] = ct.Padded
	}
	want := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true, "f": false, "g": false, "h": false, "i": false, "j": false}
	if !maps.Equal(padded, want) {
		t.Errorf("Padded of the columns = %v\nwant %v", padded, want)
	}
}

// A column's type is named as its declaration names it, for installing to resolve as the catalog does: the SQL
// standard's spellings as libpg_query gives them (pg_catalog's, qualified), serial's kin as their integer types,
// a type the files make by its name now, qualified; any other unqualified name alone (built-in or not: pg_catalog
// is searched first, then public), an array as its element type's followed by [], names quoted where to_regtype
// would fold or misread them (key words too when unqualified: "char" and "time" are no char and time); none for a
// declaration with more than two parts. A name no type has when the table is made (was, renamed away) is as
// written: PostgreSQL would refuse it.
func TestResolved(t *testing.T) {
	sc, err := ReadSchema(`CREATE TYPE was AS ENUM ('x'); ALTER TYPE was RENAME TO renamed;
		CREATE TABLE t (a bigint, b double precision, c text, d char(3), e citext, f text[], g int[][], h "Odd"."Mood",
			i serial, j bigserial, k uuid, l was, m renamed, n public.text, o "char", p _int4, q x.y.z, r timestamp with time zone,
			s "user".kind, u "Weird", v varchar(3)[], x serial4, y "time", z multirange_of_tomorrow)`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for c, ct := range tableColumns(sc) {
		got[c.Name] = ct.Resolved()
	}
	want := map[string]string{"a": "pg_catalog.int8", "b": "pg_catalog.float8", "c": "text", "d": "pg_catalog.bpchar",
		"e": "citext", "f": "text[]", "g": "pg_catalog.int4[]", "h": `"Odd"."Mood"`, "i": "pg_catalog.int4",
		"j": "pg_catalog.int8", "k": "uuid", "l": "was", "m": "public.renamed", "n": "public.text", "o": `"char"`,
		"p": "_int4", "q": "", "r": "pg_catalog.timestamptz", "s": `"user".kind`, "u": `"Weird"`,
		"v": "pg_catalog.varchar[]", "x": "pg_catalog.int4", "y": `"time"`, "z": "multirange_of_tomorrow"}
	if !maps.Equal(got, want) {
		t.Errorf("Resolved of the columns = %v\nwant %v", got, want)
	}
}

// tableColumns are the columns of the tables a schema's file leaves, read into empty relations.
func tableColumns(sc *Schema) map[Column]ColumnType {
	rels := NewRelations()
	rels.Read(sc)
	return rels.Columns()
}

// A table's columns follow it, as PostgreSQL's do, across files: renamed (ALTER TABLE, or ALTER VIEW on a table)
// or moved to another schema, with the schema renamed; a column renamed keeps its declaration, which a later ALTER
// COLUMN TYPE by its new name replaces; DROP COLUMN removes one; a table dropped and made again has the new one's
// columns alone; CREATE TABLE IF NOT EXISTS of a table there declares none; ALTER TABLE of a name no table has now
// declares nothing.
func TestColumnsFollowRenames(t *testing.T) {
	rels := NewRelations()
	for _, text := range []string{
		`CREATE TABLE teeth_old (id bigint, code char(3), label char(3), note text);
		ALTER TABLE teeth_old RENAME TO teeth; ALTER TABLE teeth RENAME COLUMN label TO tag;
		ALTER TABLE teeth RENAME note TO remark; ALTER TABLE teeth ALTER COLUMN remark TYPE citext;
		CREATE TABLE stage (id bigint, v float8); CREATE SCHEMA ward; ALTER TABLE stage SET SCHEMA ward;
		CREATE TABLE gone (id bigint, a text, b text); ALTER TABLE gone DROP COLUMN a;`,
		`ALTER SCHEMA ward RENAME TO annex; ALTER VIEW annex.stage RENAME TO ledger; ALTER TABLE annex.ledger ADD COLUMN w text;
		DROP TABLE gone; CREATE TABLE gone (id bigint, c int4); ALTER TABLE teeth_old ADD COLUMN lost text;
		CREATE TABLE IF NOT EXISTS teeth (id text, other text); ALTER TABLE ONLY teeth ADD COLUMN IF NOT EXISTS code text;`,
	} {
		sc, err := ReadSchema(text)
		if err != nil {
			t.Fatal(err)
		}
		rels.Read(sc)
	}
	got := map[Column]string{}
	for c, ct := range rels.Columns() {
		got[c] = ct.Resolved()
		if ct.Padded {
			got[c] += " padded"
		}
	}
	teeth, ledger, gone := Table{"public", "teeth"}, Table{"annex", "ledger"}, Table{"public", "gone"}
	want := map[Column]string{{teeth, "id"}: "pg_catalog.int8", {teeth, "code"}: "pg_catalog.bpchar padded",
		{teeth, "tag"}: "pg_catalog.bpchar padded", {teeth, "remark"}: "citext",
		{ledger, "id"}: "pg_catalog.int8", {ledger, "v"}: "float8", {ledger, "w"}: "text",
		{gone, "id"}: "pg_catalog.int8", {gone, "c"}: "int4"}
	if !maps.Equal(got, want) {
		t.Errorf("Columns() = %v\nwant %v", got, want)
	}
}

// Types are created in, and unqualified names looked up along, the search path the files set: SET (a string
// literal is one schema's name), SET SCHEMA, SET LOCAL until COMMIT or the file's end, set_config (session or
// local), RESET; pg_catalog first unless listed. A table's row type follows the table. A name no type of the
// files' has, along a path with a schema the files do not describe (an extension's, one they do not create), is
// unsure: not resolved.
func TestSearchPathTypes(t *testing.T) {
	rels := NewRelations()
	for _, text := range []string{
		`CREATE SCHEMA a; CREATE SCHEMA "b, c"; SET search_path TO a; CREATE TYPE t1 AS ENUM ('x');
		SET search_path = 'b, c'; CREATE TYPE t2 AS ENUM ('x'); SET SCHEMA 'a'; CREATE DOMAIN t3 AS text;
		BEGIN; SET LOCAL search_path TO "b, c"; CREATE TYPE t4 AS ENUM ('x'); COMMIT; CREATE TYPE t5 AS ENUM ('x');
		SET LOCAL search_path TO public; CREATE TYPE t6 AS ENUM ('x');
		CREATE TABLE addresses (id bigint); CREATE TABLE r1 (home addresses);`,
		`CREATE TYPE t7 AS ENUM ('x'); SELECT pg_catalog.set_config('search_path', ' "b, c" , A', false); CREATE TYPE t8 AS ENUM ('x');
		SELECT set_config('search_path', 'public', true); CREATE TYPE t9 AS ENUM ('x');`,
		`CREATE TYPE t10 AS ENUM ('x'); SET search_path TO public, pg_catalog, a, "b, c"; CREATE TYPE text AS ENUM ('x');
		CREATE TABLE tbl (c1 t1, c2 t2, c3 t3, c4 t4, c5 t5, c6 t6, c7 t7, c8 t8, c9 t9, c10 t10, c11 text, c12 addresses, c13 int4);
		RESET search_path; ALTER TABLE addresses RENAME TO postal; ALTER TABLE tbl ADD COLUMN c14 text, ADD COLUMN c15 postal;
		CREATE SCHEMA ext; CREATE EXTENSION citext SCHEMA ext; ALTER TABLE tbl ADD COLUMN c16 citext, ADD COLUMN c17 int4;
		SET search_path TO "$user", public, ext; ALTER TABLE tbl ADD COLUMN c18 citext, ADD COLUMN c19 int4, ADD COLUMN c20 ext.citext;`,
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
		if ct.Exact() {
			got[c.Table.Name+"."+c.Name] += " exact"
		}
	}
	want := map[string]string{"r1.home": "public.postal", "postal.id": "pg_catalog.int8",
		"tbl.c1": "a.t1 exact", "tbl.c2": `"b, c".t2 exact`, "tbl.c3": "a.t3", "tbl.c4": `"b, c".t4 exact`, "tbl.c5": "a.t5 exact",
		// SET LOCAL outside BEGIN holds to the file's end (a migration tool's transaction), then the session's path.
		"tbl.c6": "public.t6 exact", "tbl.c7": "a.t7 exact", "tbl.c8": `"b, c".t8 exact`, "tbl.c9": "public.t9 exact",
		"tbl.c10": `"b, c".t10 exact`,
		// public is listed before pg_catalog: its enum named text is the column's.
		"tbl.c11": "public.text exact", "tbl.c12": "public.postal", "tbl.c13": "int4",
		"tbl.c14": "text exact", "tbl.c15": "public.postal",
		// ext holds the extension's types: citext, unqualified, may be pg_catalog's or ext's.
		"tbl.c16": "", "tbl.c17": "int4", "tbl.c18": "", "tbl.c19": "int4", "tbl.c20": "ext.citext"}
	if !maps.Equal(got, want) {
		t.Errorf("Columns() = %v\nwant %v", got, want)
	}
}

// A search_path setting's text is split as PostgreSQL splits it.
func TestSplitIdentifiers(t *testing.T) {
	for text, want := range map[string][]string{``: {}, ` `: {}, `public`: {"public"}, `"$user", Public`: {"$user", "public"},
		` a ,"B ""x"", y",c `: {"a", `B "x", y`, "c"}} {
		if got, ok := splitIdentifiers(text); !ok || !slices.Equal(got, want) {
			t.Errorf("splitIdentifiers(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
	for _, bad := range []string{`a,`, `,a`, `a b`, `"a`, `""`} {
		if got, ok := splitIdentifiers(bad); ok {
			t.Errorf("splitIdentifiers(%q) = %q, want refused", bad, got)
		}
	}
}
