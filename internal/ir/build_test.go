package ir

import (
	"go/types"
	"testing"
)

// Columns whose SQL type has no equality, or one that holds values with different images (numeric 1.0 = 1.00,
// interval '1 day' = '24 hours'), compare as text; others by their equality.
func TestComparesByText(t *testing.T) {
	pgtype := types.NewPackage("github.com/jackc/pgx/v5/pgtype", "pgtype")
	named := func(name string) types.Type {
		return types.NewNamed(types.NewTypeName(0, pgtype, name, nil), types.NewStruct(nil, nil), nil)
	}
	// pgtype.Range[T], as sqlc maps numrange (Range[Numeric]) and int8range (Range[Int8]).
	generic := types.NewNamed(types.NewTypeName(0, pgtype, "Range", nil), nil, nil)
	generic.SetTypeParams([]*types.TypeParam{types.NewTypeParam(types.NewTypeName(0, pgtype, "T", nil), types.NewInterfaceType(nil, nil))})
	generic.SetUnderlying(types.NewStruct(nil, nil))
	rangeOf := func(bound types.Type) types.Type {
		r, err := types.Instantiate(nil, generic, []types.Type{bound}, false)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		typ  types.Type
		want bool
	}{
		{rangeOf(named("Numeric")), true},
		{rangeOf(named("Int8")), false},
		{named("Numeric"), true},
		{types.NewSlice(named("Numeric")), true},
		{named("Interval"), true},
		{named("Point"), true},
		{types.NewSlice(types.Typ[types.Byte]), true},
		{named("Int8"), false},
		{named("Timestamptz"), false},
		{types.Typ[types.Float64], false},
		{types.Typ[types.String], false},
	} {
		if got := comparesByText(c.typ); got != c.want {
			t.Errorf("comparesByText(%s) = %v, want %v", c.typ, got, c.want)
		}
	}
}

// Text columns (citext's equality ignores case, and so does a nondeterministic collation's) compare their text too.
func TestIsString(t *testing.T) {
	pgtype := types.NewPackage("github.com/jackc/pgx/v5/pgtype", "pgtype")
	db := types.NewPackage("example.com/db", "db")
	enum := types.NewNamed(types.NewTypeName(0, db, "VisitKind", nil), types.Typ[types.String], nil)
	named := func(name string) types.Type {
		return types.NewNamed(types.NewTypeName(0, pgtype, name, nil), types.NewStruct(nil, nil), nil)
	}
	for _, c := range []struct {
		typ  types.Type
		want bool
	}{
		{types.Typ[types.String], true},
		{types.NewPointer(types.Typ[types.String]), true},
		{types.NewSlice(types.Typ[types.String]), true},
		{named("Text"), true},
		{enum, true},
		{named("Int8"), false},
		{named("Numeric"), false},
		{types.Typ[types.Int64], false},
		{types.NewSlice(types.Typ[types.Byte]), false},
	} {
		if got := isString(c.typ); got != c.want {
			t.Errorf("isString(%s) = %v, want %v", c.typ, got, c.want)
		}
	}
}
