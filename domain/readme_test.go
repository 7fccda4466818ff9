package domain

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the check table in ../README.md from the code")

const (
	checksBegin = "<!-- checks:begin -->\n"
	checksEnd   = "<!-- checks:end -->"
)

// The README is the product's front door: its check table must be the one
// in the code, or an exchange would act on codes that do not exist.
func TestREADMEChecksTable(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, checksBegin), strings.Index(readme, checksEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", checksBegin, checksEnd)
	}
	want := ChecksMarkdown()
	if got := readme[i+len(checksBegin) : j]; got != want {
		if !*update {
			t.Fatalf("README.md's check table differs from domain/checks.go; run: go test ./domain -run TestREADMEChecksTable -update")
		}
		readme = readme[:i+len(checksBegin)] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
