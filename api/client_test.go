package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"palate"
)

// The client keeps the server's code, falls back to the status's code for
// a body that is not the error shape, and sends the key.
func TestClientErrors(t *testing.T) {
	var gotAuth string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/v1/users/a%2Fb/profile", "/v1/users/a/b/profile":
			w.WriteHeader(409)
			w.Write([]byte(`{"error":{"code":"conflict","message":"items[1]: taken"}}`))
		case "/v1/model":
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		default:
			w.Write([]byte("not json"))
		}
	}))
	defer hs.Close()
	c := &Client{BaseURL: hs.URL + "/", Key: "k"}
	ctx := context.Background()
	_, err := c.Profile(ctx, "a/b", 0)
	if palate.ErrorCode(err) != palate.ECONFLICT || err.Error() != "items[1]: taken" {
		t.Fatalf("server error: %v (%s)", err, palate.ErrorCode(err))
	}
	if gotAuth != "Bearer k" {
		t.Fatalf("Authorization %q", gotAuth)
	}
	_, err = c.Model(ctx)
	if palate.ErrorCode(err) != palate.EUNAVAILABLE || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("proxy error: %v (%s)", err, palate.ErrorCode(err))
	}
	_, err = c.Users(ctx)
	if palate.ErrorCode(err) != palate.EINTERNAL || !strings.Contains(err.Error(), "bad response") {
		t.Fatalf("bad body: %v", err)
	}
	_, err = (&Client{BaseURL: "http://127.0.0.1:1"}).Users(ctx)
	if palate.ErrorCode(err) != palate.EUNAVAILABLE {
		t.Fatalf("no server: %v", err)
	}
}

func TestStatusTable(t *testing.T) {
	for code, status := range map[string]int{palate.EINVALID: 400, palate.ENOTFOUND: 404, palate.ETOOLARGE: 413, palate.EUNAUTHORIZED: 401,
		palate.EFORBIDDEN: 403, palate.ECONFLICT: 409, palate.EUNAVAILABLE: 503, palate.ENOTIMPLEMENTED: 501, palate.EINTERNAL: 500, palate.EMETHOD: 405, "other": 500} {
		if got := Status(code); got != status {
			t.Errorf("Status(%s) = %d; want %d", code, got, status)
		}
		if code != "other" && Code(status) != code {
			t.Errorf("Code(%d) = %s; want %s", status, Code(status), code)
		}
	}
}
