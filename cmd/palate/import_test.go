package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate"
	"palate/dataset"
)

func TestImportEmbeddingsCommand(t *testing.T) {
	dir := t.TempDir()
	w, err := dataset.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Image(palate.Image{ID: "a"})
	w.Image(palate.Image{ID: "b"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	vecs := filepath.Join(dir, "v.jsonl")
	os.WriteFile(vecs, []byte("{\"id\":\"b\",\"vector\":[1,2,3]}\n{\"id\":\"a\",\"vector\":[4,5,6]}\n"), 0o644)
	code, out, errOut := run(t, "import", "--data", dir, "--embeddings", vecs, "--name", "clip-b32")
	if code != 0 || !strings.Contains(out, "imported 2 vectors of dimension 3 (jsonl)") {
		t.Fatalf("import exited %d: %s %s", code, out, errOut)
	}
	e, err := dataset.ReadEmbeddings(dir, "clip-b32")
	if err != nil || e.Dim != 3 || e.IDs[0] != "b" {
		t.Fatalf("table %+v, %v", e, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"id":"zz","vector":[1]}`), 0o644)
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no name":         {[]string{"import", "--data", dir, "--embeddings", vecs}, 2, "--name"},
		"no data":         {[]string{"import", "--embeddings", vecs, "--name", "x"}, 2, "--data"},
		"no out":          {[]string{"import", "--pickapic", "a.parquet"}, 2, "--out"},
		"no mode":         {[]string{"import"}, 2, "give --db"},
		"bad vectors":     {[]string{"import", "--data", dir, "--embeddings", bad, "--name", "x"}, 1, `id "zz" is not an image`},
		"missing shard":   {[]string{"import", "--pickapic", filepath.Join(dir, "none.parquet"), "--out", filepath.Join(dir, "pap")}, 1, "none.parquet does not exist"},
		"existing table":  {[]string{"import", "--data", dir, "--embeddings", vecs, "--name", "clip-b32"}, 1, "(--replace)"},
		"import into mem": {[]string{"import", "--db", "mem:", "--data", dir}, 2, "nothing would be kept"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d (want %d): %s %s; want %q", code, tc.code, out, errOut, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "pap")); err == nil {
		t.Error("a failed --pickapic import left its --out directory behind")
	}
	// --replace overwrites the table the refusal above kept.
	os.WriteFile(vecs, []byte("{\"id\":\"a\",\"vector\":[7,8]}\n{\"id\":\"b\",\"vector\":[9,10]}\n"), 0o644)
	if code, out, errOut := run(t, "import", "--data", dir, "--embeddings", vecs, "--name", "clip-b32", "--replace"); code != 0 {
		t.Fatalf("--replace exited %d: %s %s", code, out, errOut)
	}
	if e, err := dataset.ReadEmbeddings(dir, "clip-b32"); err != nil || e.Dim != 2 || e.IDs[0] != "a" {
		t.Fatalf("after --replace: %+v, %v", e, err)
	}
}
