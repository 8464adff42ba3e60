// Package pgtest gives tests their own PostgreSQL schema in the database
// that PALATE_TEST_POSTGRES names, and skips them when it names none.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable holding the test database's URL, e.g.
// postgres://palate:palate@127.0.0.1/palate_test.
const Env = "PALATE_TEST_POSTGRES"

// Skip skips t unless Env is set.
func Skip(t testing.TB) {
	t.Helper()
	if os.Getenv(Env) == "" {
		t.Skipf("set %s to a PostgreSQL URL (e.g. postgres://palate:palate@127.0.0.1/palate_test) to run the PostgreSQL tests", Env)
	}
}

// URL creates an empty schema with a random name, dropped when t ends, and
// returns the test database's URL with search_path set to it, so tests
// never see each other's tables. It skips t unless Env is set.
func URL(t testing.TB) string {
	t.Helper()
	Skip(t)
	base := os.Getenv(Env)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "palate_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
