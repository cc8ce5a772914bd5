package gen

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/ir"
)

// TestEmittedModelsCarryEveryCheckedField: InstallModels checks the tables the generated AuditModels lists and then
// skips the models' SQL's own copy of those checks, so the emitted tables must hold every field the program's do
// (the golden tests install p.Tables() directly): without Exact, ByLength and FloatDigits, installing through Go
// skipped the checks of how the triggers compare and print each column.
func TestEmittedModelsCarryEveryCheckedField(t *testing.T) {
	o := Options{Config: "sqlc.yaml", Models: ".", Out: filepath.Join("gen", "repo"), Audit: ir.Audit{
		Schema: auditschema.Defaults.Schema, Table: auditschema.Defaults.Table, Role: auditschema.Defaults.Audit,
		Writer: auditschema.Defaults.Writer}}
	prog, err := Program(filepath.Join("..", ".."), o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := repo.AuditModels.Tables, prog.Tables(); !reflect.DeepEqual(got, want) {
		t.Errorf("gen/repo's AuditModels.Tables differ from the program's:\n%+v\nwant\n%+v", got, want)
	}
}
