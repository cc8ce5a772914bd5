package ir

import (
	"go/token"
	"strings"
	"testing"
)

// TestFiles gives each model a file of its own that Go builds everywhere, and refuses two models whose names
// give the same file.
func TestFiles(t *testing.T) {
	names := []string{"DentalRecord", "Repo", "Install", "ProcessLinux", "WindowsAmd64", "RecordTest", "HttpLog", "HTTPLog"}
	want := []string{"dental_record.go", "repo_repo.go", "install_repo.go", "process_linux_repo.go", "windows_amd64_repo.go",
		"record_test_repo.go", "http_log.go", "http_log.go"}
	var models []*Model
	var pos []token.Position
	for i, n := range names {
		models = append(models, &Model{Name: n})
		pos = append(pos, token.Position{Filename: "models.go", Line: i + 1, Column: 6})
	}
	b := &builder{}
	b.files(models, pos)
	for i, m := range models {
		if m.File != want[i] {
			t.Errorf("%s: file %s, want %s", m.Name, m.File, want[i])
		}
	}
	if len(b.errs) != 1 || !strings.HasPrefix(b.errs[0].Error(), "models.go:8:6: HTTPLog: its repository's file http_log.go would also be that of model HttpLog") {
		t.Errorf("errors %v, want HTTPLog's clash with HttpLog", b.errs)
	}
}
