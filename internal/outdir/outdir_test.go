package outdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate"
)

func TestResolve(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir()) // Resolve reports real directories
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "real"), 0o755))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "abs")))
	must(os.Symlink("abs", filepath.Join(dir, "chain")))            // relative, to another link
	must(os.Symlink("nowhere/out", filepath.Join(dir, "dangling"))) // relative, target missing
	must(os.Symlink("loop2", filepath.Join(dir, "loop1")))
	must(os.Symlink("loop1", filepath.Join(dir, "loop2")))
	// A relative "..", read from behind a link to a directory, starts from
	// the real directory: alias/out is real/sub/out, whose ../ck is real/ck.
	must(os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
	must(os.Symlink(filepath.Join(dir, "real", "sub"), filepath.Join(dir, "alias")))
	must(os.Symlink("../ck", filepath.Join(dir, "real", "sub", "out")))
	for in, want := range map[string]string{
		"alias/out": "real/ck",
		"real":      "real",
		"missing":   "missing",
		"abs":       "real",
		"chain":     "real",
		"dangling":  "nowhere/out",
		"real/":     "real",
	} {
		got, err := Resolve(filepath.Join(dir, in))
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("Resolve(%s) = %q, %v; want %q", in, got, err, filepath.Join(dir, want))
		}
	}
	if _, err := Resolve(filepath.Join(dir, "loop1")); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("a loop of links: %v; want invalid", err)
	}
}

func TestEntries(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(full, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if real, ents, err := Entries(filepath.Join(dir, "new"), "out"); err != nil || ents != nil || real != filepath.Join(dir, "new") {
		t.Errorf("a new directory: %q %v %v", real, ents, err)
	}
	if real, ents, err := Entries(filepath.Join(dir, "link"), "out"); err != nil || len(ents) != 1 || ents[0].Name() != "a" || real != full {
		t.Errorf("through a link: %q %v %v", real, ents, err)
	}
	_, _, err = Entries(filepath.Join(full, "a"), "--out")
	if palate.ErrorCode(err) != palate.ECONFLICT || !strings.Contains(err.Error(), "--out "+filepath.Join(full, "a")+" is a file") {
		t.Errorf("a file: %v; want a conflict naming it", err)
	}
}
