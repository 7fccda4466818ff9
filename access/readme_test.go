package access

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the access table in ../README.md from the code")

const (
	tableBegin = "<!-- access:begin -->\n"
	tableEnd   = "<!-- access:end -->"
)

// The README's table of who may call which RPC must be the table the
// server applies.
func TestREADMEAccessTable(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", tableBegin, tableEnd)
	}
	if got, want := readme[i+len(tableBegin):j], TableMarkdown(); got != want {
		if !*update {
			t.Fatal("README.md's access table differs from access/table.go; run: go test ./access -run TestREADMEAccessTable -update")
		}
		if err := os.WriteFile(path, []byte(readme[:i+len(tableBegin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
