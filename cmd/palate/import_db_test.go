package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"palate"
	"palate/dataset"
	"palate/postgres/pgtest"
	"palate/world"
	"palate/world/worldtest"
)

// importWorld builds a small world with two embedding tables (blank and
// truth) and no image files.
func importWorld(t *testing.T) (string, *dataset.Dataset) {
	t.Helper()
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize, c.Images = 10, 2, 16, "none"
	c.ComparisonsPerUser = world.Range{Min: 4, Max: 20}
	c.VotesPerUser = world.Range{Min: 2, Max: 8}
	dir, _ := worldtest.Build(t, c, nil)
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, ds
}

func TestImportDBSQLite(t *testing.T) {
	dir, ds := importWorld(t)
	testImportDB(t, "sqlite:"+filepath.Join(t.TempDir(), "palate.db"), dir, ds)
}

func TestImportDBPostgres(t *testing.T) {
	u := pgtest.URL(t)
	dir, ds := importWorld(t)
	testImportDB(t, u, dir, ds)
}

// testImportDB loads a dataset into a store that already holds part of it,
// as a killed import leaves it, and checks that the rerun writes only what
// was missing, that everything arrived intact, and that a third run writes
// nothing.
func testImportDB(t *testing.T, db, dir string, ds *dataset.Dataset) {
	defer func(n int) { importBatch = n }(importBatch)
	importBatch = 17 // several batches per file, the last one partial
	ctx := context.Background()

	// What a run killed partway through would have written.
	s, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	nIm, nVotes := len(ds.Images)/2, len(ds.Votes)/3
	if _, err := s.PutImages(ctx, ds.Images[:nIm]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddVotes(ctx, filterVotes(ds.Votes[:nVotes], ds.Images[:nIm])); err != nil {
		t.Fatal(err)
	}
	early := len(filterVotes(ds.Votes[:nVotes], ds.Images[:nIm]))
	s.Close()

	code, out, errOut := run(t, "import", "--db", db, "--data", dir)
	if code != 0 {
		t.Fatalf("import exited %d: %s", code, errOut)
	}
	wantParts := []string{
		fmt.Sprintf("images %d new, %d already there", len(ds.Images)-nIm, nIm),
		fmt.Sprintf("embeddings blank %d new, 0 already there", len(ds.Images)),
		fmt.Sprintf("embeddings truth %d new, 0 already there", len(ds.Images)),
		fmt.Sprintf("comparisons %d new, 0 already there", len(ds.Comparisons)),
		fmt.Sprintf("votes %d new, %d already there", len(ds.Votes)-early, early),
	}
	for _, w := range wantParts {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "palate:palate@") {
		t.Errorf("summary shows the password: %s", out)
	}

	s, err = openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var nc, nv int
	for _, u := range users {
		nc += u.Comparisons
		nv += u.Votes
	}
	if nc != len(ds.Comparisons) || nv != len(ds.Votes) {
		t.Fatalf("store holds %d comparisons and %d votes; dataset %d and %d", nc, nv, len(ds.Comparisons), len(ds.Votes))
	}
	c := ds.Comparisons[len(ds.Comparisons)-1]
	h, err := s.History(ctx, c.User)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range h.Comparisons {
		if x.ID == c.ID {
			found = x.Image0 == c.Image0 && x.Image1 == c.Image1 && x.Label0 == c.Label0 && x.Time.Equal(c.Time) && x.Prompt == c.Prompt
		}
	}
	if !found {
		t.Fatalf("comparison %+v not stored intact", c)
	}
	truth, err := dataset.ReadEmbeddings(dir, world.TruthEmbedder)
	if err != nil {
		t.Fatal(err)
	}
	last := len(truth.IDs) - 1
	got, err := s.Embeddings(ctx, world.TruthEmbedder, []string{truth.IDs[last]})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(truth.Row(last)) {
		t.Fatalf("truth vector of %s: %v; want %v", truth.IDs[last], got[0], truth.Row(last))
	}

	code, out, errOut = run(t, "import", "--db", db, "--data", dir)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("votes 0 new, %d already there", len(ds.Votes))) ||
		!strings.Contains(out, fmt.Sprintf("images 0 new, %d already there", len(ds.Images))) {
		t.Fatalf("second import exited %d: %s %s", code, out, errOut)
	}
}

// filterVotes keeps the votes on the given images.
func filterVotes(vs []palate.Vote, ims []palate.Image) []palate.Vote {
	have := map[string]bool{}
	for _, im := range ims {
		have[im.ID] = true
	}
	var out []palate.Vote
	for _, v := range vs {
		if have[v.Image] {
			out = append(out, v)
		}
	}
	return out
}

func TestImportDBErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.MkdirAll(good, 0o755)
	os.WriteFile(filepath.Join(good, "images.jsonl"), []byte(`{"id": "a", "prompt": "p"}`+"\n"+`{"id": "b"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(good, "votes.jsonl"), []byte(
		`{"id": "v1", "user": "u", "image": "a", "vote": "like", "time": "2025-03-01T12:00:00Z"}`+"\n"), 0o644)
	badRef := filepath.Join(dir, "badref")
	os.MkdirAll(badRef, 0o755)
	os.WriteFile(filepath.Join(badRef, "images.jsonl"), []byte(`{"id": "a"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(badRef, "votes.jsonl"), []byte(
		`{"id": "v1", "user": "u", "image": "a", "vote": "like", "time": "2025-03-01T12:00:00Z"}`+"\n\n"+
			`{"id": "v2", "user": "u", "image": "zz", "vote": "like", "time": "2025-03-01T12:00:00Z"}`+"\n"), 0o644)
	changed := filepath.Join(dir, "changed")
	os.MkdirAll(changed, 0o755)
	os.WriteFile(filepath.Join(changed, "images.jsonl"), []byte(`{"id": "a", "prompt": "another"}`+"\n"), 0o644)

	db := filepath.Join(dir, "s.db")
	if code, _, errOut := run(t, "import", "--db", db, "--data", good); code != 0 {
		t.Fatalf("good import: %s", errOut)
	}
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no data":     {[]string{"import", "--db", db}, 2, "--data"},
		"bad url":     {[]string{"import", "--db", "mysql://u:secret@h/x", "--data", good}, 1, "store URL"},
		"no file":     {[]string{"import", "--db", "sqlite:", "--data", good}, 1, "names no file"},
		"no dataset":  {[]string{"import", "--db", db, "--data", filepath.Join(dir, "none")}, 1, "images.jsonl"},
		"bad ref":     {[]string{"import", "--db", filepath.Join(dir, "other.db"), "--data", badRef}, 1, `votes.jsonl:3: image "zz" is not in images.jsonl`},
		"conflict":    {[]string{"import", "--db", db, "--data", changed}, 1, `images.jsonl: records 1-1: items[0]: image "a" is already stored with different content`},
		"closed port": {[]string{"import", "--db", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2", "--data", good}, 1, "unavailable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "secret") {
				t.Fatalf("stderr shows the password: %s", stderr)
			}
		})
	}
	// The dataset with a bad line was checked before anything was written.
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
		t.Fatal("a store was created for a dataset that failed its check")
	}
}

// TestImportDBKill kills an import with SIGKILL while it writes
// comparisons or votes, then runs it again: the rerun finds what the killed
// run stored, writes only the rest, and the store ends up holding the whole
// dataset exactly once.
func TestImportDBKill(t *testing.T) {
	if dir := os.Getenv("PALATE_IMPORT_KILL_DATA"); dir != "" { // the child
		importBatch, importPause = 1, 5*time.Millisecond
		code, _, stderr := run(t, "import", "--db", os.Getenv("PALATE_IMPORT_KILL_DB"), "--data", dir)
		if code != 0 {
			t.Fatalf("import exited %d: %s", code, stderr)
		}
		return
	}
	dir, ds := importWorld(t)
	db := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportDBKill$", "-test.count=1")
	// The child is killed before its cleanups run: its temporary files go
	// inside this test's temporary directory, which is removed.
	cmd.Env = append(os.Environ(), "PALATE_IMPORT_KILL_DATA="+dir, "PALATE_IMPORT_KILL_DB="+db, "TMPDIR="+t.TempDir())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Kill once interactions are arriving and before the last vote is in.
	ctx := context.Background()
	var watch palate.Store
	for watch == nil {
		select {
		case err := <-exited:
			t.Fatalf("the import ended (%v) before the store was made:\n%s", err, out.String())
		case <-time.After(time.Millisecond):
		}
		if _, err := os.Stat(db); err == nil {
			if watch, err = openStore(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer watch.Close()
	total := len(ds.Comparisons) + len(ds.Votes)
	target := 1 + rand.IntN(total/2) // somewhere in the first half
	seen := 0
	for seen == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the import finished (%v) before it could be killed:\n%s", err, out.String())
		case <-time.After(time.Millisecond):
		}
		users, err := watch.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, u := range users {
			n += u.Comparisons + u.Votes
		}
		if n >= target && n < total {
			seen = n
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited

	before, err := interactions(ctx, db)
	if err != nil {
		t.Fatalf("reading the store after kill -9: %v", err)
	}
	code, stdout, stderr := run(t, "import", "--db", db, "--data", dir)
	if code != 0 {
		t.Fatalf("rerun exited %d: %s", code, stderr)
	}
	var cNew, cOld, vNew, vOld int
	for _, part := range strings.Split(stdout, "; ") {
		if i := strings.Index(part, "comparisons "); i >= 0 {
			fmt.Sscanf(part[i:], "comparisons %d new, %d already there", &cNew, &cOld)
		}
		if i := strings.Index(part, "votes "); i >= 0 {
			fmt.Sscanf(part[i:], "votes %d new, %d already there", &vNew, &vOld)
		}
	}
	if cNew+cOld != len(ds.Comparisons) || vNew+vOld != len(ds.Votes) || cOld+vOld != before {
		t.Fatalf("rerun after a kill with %d interactions stored: %s", before, stdout)
	}
	after, err := interactions(ctx, db)
	if err != nil || after != len(ds.Comparisons)+len(ds.Votes) {
		t.Fatalf("store holds %d interactions (%v); want %d", after, err, len(ds.Comparisons)+len(ds.Votes))
	}
	t.Logf("killed with %d of %d interactions stored (saw %d); the rerun added %d", before, after, seen, cNew+vNew)
}

// interactions counts the comparisons and votes in the store at db.
func interactions(ctx context.Context, db string) (int, error) {
	s, err := openStore(ctx, db)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	users, err := s.Users(ctx)
	n := 0
	for _, u := range users {
		n += u.Comparisons + u.Votes
	}
	return n, err
}

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		url  string
		code string // "" when it opens
	}{
		"sqlite":           {"sqlite:" + filepath.Join(dir, "a.sqlite"), ""},
		"bare .db":         {filepath.Join(dir, "b.db"), ""},
		"postgresql":       {"postgresql://u:p@127.0.0.1:1/x?connect_timeout=2", palate.EUNAVAILABLE},
		"postgres":         {"postgres://u:p@127.0.0.1:1/x?connect_timeout=2", palate.EUNAVAILABLE},
		"other extension":  {filepath.Join(dir, "c.sqlite3"), palate.EINVALID},
		"other scheme":     {"mysql://u:p@h/x", palate.EINVALID},
		"empty sqlite":     {"sqlite:", palate.EINVALID},
		"bad postgres url": {"postgres://u:p@h:notaport/x", palate.EINVALID},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := openStore(context.Background(), tc.url)
			if palate.ErrorCode(err) != tc.code {
				t.Fatalf("openStore(%q): %v; want code %q", tc.url, err, tc.code)
			}
			if err != nil {
				if s != nil {
					t.Fatalf("a failed open returned a non-nil store %#v", s)
				}
				return
			}
			defer s.Close()
			if err := s.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
