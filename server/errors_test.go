package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/memstore"
)

// hugePNG is a valid PNG header that claims 100000×100000 pixels.
func hugePNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// Every bad input gets its status, its code and a message naming what is
// wrong; nothing of a rejected batch is written.
func TestBadInput(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0], Limits: Limits{MaxBodyBytes: 1 << 20, MaxBatch: 5, MaxCandidates: 3, MaxImagePixels: 1_000_000}})
	e.seedImages(4)
	e.seedUser("u", 2, 4, true, 1)
	b64 := base64.StdEncoding.EncodeToString
	tests := map[string]struct {
		method, path, body string
		status             int
		code, want         string
	}{
		"unknown field":            {"POST", "/v1/votes", `{"id":"v","user":"u","image":"img0","vote":"like","colour":"red"}`, 400, palate.EINVALID, `colour: unknown field`},
		"lone surrogate":           {"POST", "/v1/votes", `{"id":"v\udc00","user":"u","image":"img0","vote":"like"}`, 400, palate.EINVALID, `body: \udc00 at byte 8 is half of a UTF-16 surrogate pair`},
		"double slash":             {"POST", "//v1/votes", `{"id":"v","user":"u","image":"img0","vote":"like"}`, 404, palate.ENOTFOUND, `no route POST //v1/votes: paths are not cleaned; did you mean /v1/votes?`},
		"dot segment":              {"GET", "/v1/users/u/../u/profile", "", 404, palate.ENOTFOUND, `did you mean /v1/users/u/profile?`},
		"key given twice":          {"POST", "/v1/votes", `{"id":"v","user":"u","user":"w","image":"img0","vote":"like"}`, 400, palate.EINVALID, `user: given twice`},
		"key in two cases":         {"POST", "/v1/votes", `{"id":"v","user":"u","USER":"w","image":"img0","vote":"like"}`, 400, palate.EINVALID, `USER: given twice (as "user" and "USER")`},
		"key in another case":      {"POST", "/v1/votes", `{"id":"v","User":"u","image":"img0","vote":"like"}`, 400, palate.EINVALID, `User: unknown field (field names are case-sensitive: want "user")`},
		"folded key (long s)":      {"POST", "/v1/votes", "{\"id\":\"v\",\"u\u017fer\":\"u\",\"image\":\"img0\",\"vote\":\"like\"}", 400, palate.EINVALID, `want "user"`},
		"items given twice":        {"POST", "/v1/votes", `{"items":[{"id":"v","user":"u","image":"img0","vote":"like"}],"items":[]}`, 400, palate.EINVALID, `items: given twice`},
		"key twice in batch item":  {"POST", "/v1/votes", `{"items":[{"id":"v","user":"u","image":"img0","vote":"like"},{"id":"w","id":"x"}]}`, 400, palate.EINVALID, `items[1].id: given twice`},
		"key twice in candidate":   {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0"},{"id":"img1","Id":"img2"}]}`, 400, palate.EINVALID, `candidates[1].Id: given twice (as "id" and "Id")`},
		"key twice at top of rank": {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0"}],"candidates":[{"id":"img1"}]}`, 400, palate.EINVALID, `candidates: given twice`},
		"unknown field in batch":   {"POST", "/v1/votes", `{"items":[{"id":"v","user":"u","image":"img0","vote":"like"},{"id":"w","usr":"u"}]}`, 400, palate.EINVALID, `items[1].usr: unknown field`},
		"wrong type":               {"POST", "/v1/comparisons", `{"id":"c","user":"u","image_0":"img0","image_1":"img1","label_0":"yes"}`, 400, palate.EINVALID, `label_0: got a JSON string, want a number`},
		"wrong type in batch":      {"POST", "/v1/comparisons", `{"items":[{"id":7}]}`, 400, palate.EINVALID, `items[0].id: got a JSON number, want a string`},
		"bad time":                 {"POST", "/v1/votes", `{"id":"v","user":"u","image":"img0","vote":"like","time":"yesterday"}`, 400, palate.EINVALID, `time: want an RFC 3339 time`},
		"syntax":                   {"POST", "/v1/votes", `{"id":"v",}`, 400, palate.EINVALID, `invalid JSON at byte`},
		"empty body":               {"POST", "/v1/votes", ``, 400, palate.EINVALID, `body: empty`},
		"trailing data":            {"POST", "/v1/votes", `{"id":"v","user":"u","image":"img0","vote":"like"} {}`, 400, palate.EINVALID, `unexpected data after`},
		"missing label":            {"POST", "/v1/comparisons", `{"id":"c","user":"u","image_0":"img0","image_1":"img1"}`, 400, palate.EINVALID, `label_0: required`},
		"bad label":                {"POST", "/v1/comparisons", `{"id":"c","user":"u","image_0":"img0","image_1":"img1","label_0":0.7}`, 400, palate.EINVALID, `label_0: 0.7`},
		"bad vote":                 {"POST", "/v1/votes", `{"id":"v","user":"u","image":"img0","vote":"meh"}`, 400, palate.EINVALID, `vote: "meh"`},
		"no id":                    {"POST", "/v1/votes", `{"user":"u","image":"img0","vote":"like"}`, 400, palate.EINVALID, `id: required`},
		"empty batch":              {"POST", "/v1/votes", `{"items":[]}`, 400, palate.EINVALID, `items: empty`},
		"batch and more":           {"POST", "/v1/votes", `{"items":[{"id":"v"}],"user":"u"}`, 400, palate.EINVALID, `user: unknown field`},
		"batch, first other key":   {"POST", "/v1/votes", `{"items":[{"id":"v"}],"zeta":1,"alpha":2,"mid":3}`, 400, palate.EINVALID, `zeta: unknown field (a batch holds only "items")`},
		"batch items in two cases": {"POST", "/v1/votes", `{"items":[],"Items":[]}`, 400, palate.EINVALID, `Items: given twice (as "items" and "Items")`},
		"batch over limit":         {"POST", "/v1/votes", `{"items":[{},{},{},{},{},{}]}`, 413, palate.ETOOLARGE, `6 items, over the limit of 5`},
		"vote for unknown image":   {"POST", "/v1/votes", `{"id":"v","user":"u","image":"nope","vote":"like"}`, 404, palate.ENOTFOUND, `"nope"`},
		"comparison conflict":      {"POST", "/v1/comparisons", `{"id":"u-c0","user":"u","image_0":"img0","image_1":"img1","label_0":0.5}`, 409, palate.ECONFLICT, `"u-c0"`},
		"image and embedding":      {"POST", "/v1/images", fmt.Sprintf(`{"id":"x","image":%q,"embedding":[1]}`, b64(pngOf(t, 4, 4, 1))), 400, palate.EINVALID, `not both`},
		"neither":                  {"POST", "/v1/images", `{"id":"x","prompt":"p"}`, 400, palate.EINVALID, `give image`},
		"embedding no embedder":    {"POST", "/v1/images", `{"id":"x","embedding":[1,2]}`, 400, palate.EINVALID, `embedder: required`},
		"date only":                {"POST", "/v1/votes", `{"id":"v","user":"u","image":"img0","vote":"like","time":"2026-01-01"}`, 400, palate.EINVALID, `time: want an RFC 3339 time`},
		"time a number":            {"POST", "/v1/votes", `{"items":[{"id":"v","user":"u","image":"img0","vote":"like","time":5}]}`, 400, palate.EINVALID, `items[0].time: want an RFC 3339 time`},
		"not UTF-8":                {"POST", "/v1/votes", "{\"id\":\"v\",\"user\":\"\xff\xfe\",\"image\":\"img0\",\"vote\":\"like\"}", 400, palate.EINVALID, `body: not valid UTF-8 at byte 18`},
		"n not whole":              {"POST", "/v1/generate", `{"n":1.5}`, 400, palate.EINVALID, `n: got a JSON number 1.5, want a whole number`},
		"n beyond int":             {"POST", "/v1/generate", `{"n":1e30}`, 400, palate.EINVALID, `n: number 1e30 is out of range for a whole number`},
		"negative seed":            {"POST", "/v1/generate", `{"n":1,"seed":-5}`, 400, palate.EINVALID, `seed: got a JSON number -5, want a whole number >= 0`},
		"NUL in a path id":         {"GET", "/v1/users/a%00b/profile", "", 400, palate.EINVALID, `user in the path contains a NUL byte`},
		"long path id":             {"GET", "/v1/users/" + strings.Repeat("x", 1025) + "/similar", "", 400, palate.EINVALID, `user in the path is 1025 bytes long`},
		"path id not UTF-8":        {"POST", "/v1/users/%FF/rank", `{"candidates":[{"id":"img0"}]}`, 400, palate.EINVALID, `user in the path is not valid UTF-8`},
		"beyond float32":           {"POST", "/v1/images", `{"id":"x","embedding":[1e39],"embedder":"e"}`, 400, palate.EINVALID, `embedding: number 1e39 is out of range for a number (float32)`},
		"prompt too long":          {"POST", "/v1/images", `{"id":"x","embedding":[1,2],"embedder":"e","prompt":"` + strings.Repeat("a", 20000) + `"}`, 400, palate.EINVALID, `prompt: is 20000 bytes long; at most 16384`},
		"embedding too large":      {"POST", "/v1/images", `{"id":"x","embedding":[1,3e38],"embedder":"e"}`, 400, palate.EINVALID, `embedding[1]: 3e+38; want a finite number under 1048576`},
		"rank embedding too large": {"POST", "/v1/users/u/rank", `{"candidates":[{"embedding":[-2e6]}]}`, 400, palate.EINVALID, `candidates[0].embedding[0]: -2e+06`},
		"embedding wrong dim":      {"POST", "/v1/images", `{"id":"x","embedding":[1,2],"embedder":"pixels-v3"}`, 400, palate.EINVALID, `embedding: 2 values`},
		"bad base64":               {"POST", "/v1/images", `{"id":"x","image":"!!!"}`, 400, palate.EINVALID, `image: not valid base64`},
		"not a picture":            {"POST", "/v1/images", fmt.Sprintf(`{"id":"x","image":%q}`, b64([]byte("hello world"))), 400, palate.EINVALID, `image: unknown image format`},
		"pixel bomb":               {"POST", "/v1/images", fmt.Sprintf(`{"items":[{"id":"ok","embedding":[1],"embedder":"e"},{"id":"x","image":%q}]}`, b64(hugePNG())), 413, palate.ETOOLARGE, `items[1].image: png image is 100000x100000`},
		"body too large":           {"POST", "/v1/images", `{"id":"x","prompt":"` + strings.Repeat("a", 2<<20) + `"}`, 413, palate.ETOOLARGE, `over the limit of 1048576 bytes`},
		"rank unknown image":       {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0"},{"id":"nope"}]}`, 404, palate.ENOTFOUND, `candidates[1].id: image "nope" not found`},
		"rank no candidates":       {"POST", "/v1/users/u/rank", `{"candidates":[]}`, 400, palate.EINVALID, `candidates: empty`},
		"rank too many":            {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}]}`, 413, palate.ETOOLARGE, `candidates: 4, over the limit of 3`},
		"rank two kinds":           {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0","embedding":[1]}]}`, 400, palate.EINVALID, `candidates[0]: give exactly one`},
		"rank wrong dim":           {"POST", "/v1/users/u/rank", `{"candidates":[{"embedding":[1,2,3]}]}`, 400, palate.EINVALID, `candidates[0].embedding: 3 values`},
		"rank wrong embedder":      {"POST", "/v1/users/u/rank", `{"candidates":[{"embedding":[1],"embedder":"clip"}]}`, 400, palate.EINVALID, `candidates[0].embedder: "clip"`},
		"rank unknown field":       {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0","score":3}]}`, 400, palate.EINVALID, `candidates[0].score: unknown field`},
		"rank top-level field":     {"POST", "/v1/users/u/rank", `{"candidates":[{"id":"img0"}],"n":3}`, 400, palate.EINVALID, `n: unknown field`},
		"similar bad n":            {"GET", "/v1/users/u/similar?n=0", ``, 400, palate.EINVALID, `n: "0"`},
		"similar n too large":      {"GET", "/v1/users/u/similar?n=5000", ``, 413, palate.ETOOLARGE, `n: 5000`},
		"no route":                 {"GET", "/v1/nothing", ``, 404, palate.ENOTFOUND, `no route GET /v1/nothing`},
		"wrong method":             {"DELETE", "/v1/votes", ``, 405, palate.EMETHOD, `DELETE is not allowed on /v1/votes`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, body := e.do(tc.method, tc.path, "", tc.body)
			var er api.ErrorResponse
			if err := json.Unmarshal([]byte(body), &er); err != nil {
				t.Fatalf("%d, body is not the error shape: %q", status, body)
			}
			if status != tc.status || er.Error.Code != tc.code || !strings.Contains(er.Error.Message, tc.want) {
				t.Fatalf("got %d %s %q; want %d %s naming %q", status, er.Error.Code, er.Error.Message, tc.status, tc.code, tc.want)
			}
		})
	}
	// Ids holding "/" or "." arrive escaped: no segment of their own, so not
	// a path to clean.
	for _, id := range []string{"a%2Fb", "x%2F..%2Fy", "%2E%2E", "a%2F"} {
		if status, body := e.do("GET", "/v1/users/"+id+"/profile", "", ""); status != 200 {
			t.Errorf("profile of %s: %d %s; want 200", id, status, body)
		}
	}
	// The rejected image batch wrote neither its good item nor its vector.
	if _, err := e.store.Images(context.Background(), []string{"ok"}); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("a rejected batch wrote its first item: %v", err)
	}
	if h, _ := e.store.History(context.Background(), "u"); len(h.Votes) != 0 {
		t.Fatalf("rejected vote batches wrote: %+v", h.Votes)
	}
}

// One bad item rejects a batch whole, through the client too, and the
// error names the item; the client keeps the server's code.
func TestBatchRejectedWhole(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0]})
	ctx := context.Background()
	e.seedImages(3)
	items := []api.Comparison{
		{ID: "c0", User: "u", Image0: "img0", Image1: "img1", Label0: api.Float(1)},
		{ID: "c1", User: "u", Image0: "img1", Image1: "img2", Label0: api.Float(1)},
		{ID: "c2", User: "u", Image0: "img2", Image1: "img9", Label0: api.Float(0)},
	}
	_, err := e.c.AddComparisons(ctx, items)
	wantErr(t, err, palate.ENOTFOUND, "items[2].image_1")
	items[2].Image1 = "img0"
	items[1].Label0 = nil
	_, err = e.c.AddComparisons(ctx, items)
	wantErr(t, err, palate.EINVALID, "items[1].label_0: required")
	us, err := e.c.Users(ctx)
	if err != nil || len(us.Users) != 0 {
		t.Fatalf("rejected batches wrote: %+v %v", us, err)
	}
	items[1].Label0 = api.Float(0)
	w, err := e.c.AddComparisons(ctx, items)
	if err != nil || w.Inserted != 3 {
		t.Fatalf("fixed batch: %+v %v", w, err)
	}
	w, err = e.c.AddComparisons(ctx, items)
	if err != nil || w.Duplicate != 3 {
		t.Fatalf("resent batch: %+v %v", w, err)
	}
}

// A browser's write from another site is refused, whatever the keys; the
// page's own writes, reads from anywhere and clients that are not browsers
// are not.
func TestCrossOrigin(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0]})
	e.seedImages(1)
	self := e.http.URL // the page's own origin: the Host it asks
	vote := func(id string) string { return `{"id":"` + id + `","user":"u","image":"img0","vote":"like"}` }
	for name, tc := range map[string]struct {
		method, path, body string
		headers            map[string]string
		status             int
	}{
		"write from another site":  {"POST", "/v1/votes", vote("x1"), map[string]string{"Origin": "http://evil.example"}, 403},
		"write marked cross-site":  {"POST", "/v1/votes", vote("x2"), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		"write from the page":      {"POST", "/v1/votes", vote("ok1"), map[string]string{"Origin": self, "Sec-Fetch-Site": "same-origin"}, 200},
		"write from a non-browser": {"POST", "/v1/votes", vote("ok2"), nil, 200},
		"read from another site":   {"GET", "/v1/users", "", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 200},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.http.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.status == 403 && !strings.Contains(string(b), `"code":"forbidden"`)) {
				t.Fatalf("got %d %s; want %d", resp.StatusCode, b, tc.status)
			}
		})
	}
	// The refused writes left nothing.
	users, err := e.store.Users(context.Background())
	if err != nil || len(users) != 1 || users[0].Votes != 2 {
		t.Errorf("users after the writes: %+v, %v; want u with the 2 allowed votes", users, err)
	}
}

// A store's refusal of a single-object write names no "items[0]": the
// request had no items.
func TestSingleWriteErrors(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0]})
	e.seedImages(1)
	if status, body := e.do("POST", "/v1/votes", "", `{"id":"c1","user":"u","image":"img0","vote":"like"}`); status != 200 {
		t.Fatalf("first vote: %d %s", status, body)
	}
	status, body := e.do("POST", "/v1/votes", "", `{"id":"c1","user":"u","image":"img0","vote":"dislike"}`)
	if status != 409 || strings.Contains(body, "items[0]") || !strings.Contains(body, "c1") {
		t.Fatalf("conflicting single vote: %d %s; want 409 naming c1 without items[0]", status, body)
	}
	status, body = e.do("POST", "/v1/votes", "", `{"items":[{"id":"c1","user":"u","image":"img0","vote":"dislike"},{"id":"c2","user":"u","image":"img0","vote":"like"}]}`)
	if status != 409 || !strings.Contains(body, "items[0]") {
		t.Fatalf("conflicting batch: %d %s; want 409 naming items[0]", status, body)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0], ReadKey: "r3ad", WriteKey: "wr1te"})
	ctx := context.Background()
	vote := `{"id":"v","user":"u","image":"img0","vote":"like"}`
	e.seedImages(1) // through the client, with the write key
	tests := map[string]struct {
		method, path, key, body string
		status                  int
		code                    string
	}{
		"write without key":    {"POST", "/v1/votes", "", vote, 401, palate.EUNAUTHORIZED},
		"write wrong key":      {"POST", "/v1/votes", "guess", vote, 401, palate.EUNAUTHORIZED},
		"write with read key":  {"POST", "/v1/votes", "r3ad", vote, 403, palate.EFORBIDDEN},
		"write with key":       {"POST", "/v1/votes", "wr1te", vote, 200, ""},
		"scheme in lower case": {"GET", "/v1/users", "bearer r3ad", "", 200, ""},
		"another scheme":       {"GET", "/v1/users", "Basic cjNhZA==", "", 401, palate.EUNAUTHORIZED},
		"read without key":     {"GET", "/v1/users", "", "", 401, palate.EUNAUTHORIZED},
		"read with read key":   {"GET", "/v1/users", "r3ad", "", 200, ""},
		"read with write key":  {"GET", "/v1/users", "wr1te", "", 200, ""},
		"rank without key":     {"POST", "/v1/users/u/rank", "", `{"candidates":[{"id":"img0"}]}`, 401, palate.EUNAUTHORIZED},
		"rank with read key":   {"POST", "/v1/users/u/rank", "r3ad", `{"candidates":[{"id":"img0"}]}`, 200, ""},
		"health is open":       {"GET", "/healthz", "", "", 200, ""},
		"ready is open":        {"GET", "/readyz", "", "", 200, ""},
		"metrics are open":     {"GET", "/metrics", "", "", 200, ""},
		"openapi is open":      {"GET", "/v1/openapi.json", "", "", 200, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, body := e.do(tc.method, tc.path, tc.key, tc.body)
			if status != tc.status || (tc.code != "" && !strings.Contains(body, `"code":"`+tc.code+`"`)) {
				t.Fatalf("got %d %s; want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
	reader := &api.Client{BaseURL: e.http.URL, Key: "r3ad"}
	// A 401 says how to authenticate.
	if resp, err := http.Get(e.http.URL + "/v1/users"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	_, err := reader.AddVotes(ctx, []api.Vote{{ID: "v2", User: "u", Image: "img0", Vote: "like"}})
	wantErr(t, err, palate.EFORBIDDEN, "write key")

	if _, err := New(ctx, Config{Store: e.mem, ModelDir: modelDirs[0], ReadKey: "only"}); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("a read key alone: %v", err)
	}
	// With keys any address may be used; without, only loopback ones.
	open := newEnv(t, Config{ModelDir: modelDirs[0]})
	_, err = open.srv.Listen(ctx, ":8080")
	wantErr(t, err, palate.EFORBIDDEN, "PALATE_WRITE_KEY")
	ln, err := open.srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "localhost:80": true, ":80": false, "0.0.0.0:80": false, "[::]:80": false, "10.1.2.3:80": false} {
		if got, err := loopback(ctx, addr); err != nil || got != want {
			t.Errorf("loopback(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
}

// panicStore panics on Users, as a bug would.
type panicStore struct{ palate.Store }

func (panicStore) Users(context.Context) ([]palate.UserSummary, error) { panic("bug") }

// slowStore's History waits until the request's context ends.
type slowStore struct{ palate.Store }

func (slowStore) History(ctx context.Context, user string) (*palate.UserHistory, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestPanicAndTimeout(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0], Store: panicStore{memstore.New()}})
	status, body := e.do("GET", "/v1/users", "", "")
	if status != 500 || !strings.Contains(body, `"code":"internal"`) {
		t.Fatalf("panic: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/healthz", "", ""); status != 200 {
		t.Fatalf("server down after a panic: %d", status)
	}
	m, _ := e.c.Metrics(context.Background())
	if !strings.Contains(m, `palate_http_requests_total{code="500",route="GET /v1/users"} 1`) {
		t.Errorf("the 500 is not counted:\n%s", grep(m, "palate_http_requests_total"))
	}

	slow := newEnv(t, Config{ModelDir: modelDirs[0], Store: slowStore{memstore.New()}, Limits: Limits{RequestTimeout: 50 * time.Millisecond}})
	slow.seedImages(1)
	start := time.Now()
	_, err := slow.c.Rank(context.Background(), "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}}})
	wantErr(t, err, palate.EUNAVAILABLE, "longer than the limit of 50ms")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// recorder and statusWriter keep the first status.
func TestStatusWriter(t *testing.T) {
	sw := &statusWriter{ResponseWriter: &recorder{header: map[string][]string{}}}
	sw.Write([]byte("x"))
	sw.WriteHeader(500)
	if sw.code() != 200 {
		t.Fatalf("code %d after an implicit 200", sw.code())
	}
}
