package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"palate"
)

// Client calls a palate server. Its methods mirror the routes; every error
// the server reports comes back as a *palate.Error with the server's code,
// and a server that cannot be reached is EUNAVAILABLE.
type Client struct {
	// BaseURL is the server's address, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// Key is sent as "Authorization: Bearer KEY" when not empty.
	Key string
	// HTTP is the client used (http.DefaultClient when nil).
	HTTP *http.Client
}

// maxResponse bounds how much of a response the client reads.
const maxResponse = 256 << 20

// AddComparisons records comparisons as one all-or-nothing batch
// (POST /v1/comparisons).
func (c *Client) AddComparisons(ctx context.Context, items []Comparison) (*WriteResult, error) {
	var out WriteResult
	return &out, c.do(ctx, http.MethodPost, "/v1/comparisons", Batch[Comparison]{Items: items}, &out)
}

// AddVotes records votes as one batch (POST /v1/votes).
func (c *Client) AddVotes(ctx context.Context, items []Vote) (*WriteResult, error) {
	var out WriteResult
	return &out, c.do(ctx, http.MethodPost, "/v1/votes", Batch[Vote]{Items: items}, &out)
}

// AddImages records images with their pictures or vectors as one batch
// (POST /v1/images).
func (c *Client) AddImages(ctx context.Context, items []Image) (*WriteResult, error) {
	var out WriteResult
	return &out, c.do(ctx, http.MethodPost, "/v1/images", Batch[Image]{Items: items}, &out)
}

// Rank scores candidates for a person (POST /v1/users/{user}/rank).
func (c *Client) Rank(ctx context.Context, user string, req RankRequest) (*RankResponse, error) {
	var out RankResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(user)+"/rank", req, &out)
}

// Similar returns up to n people with the taste most like user's; n <= 0
// leaves the server's default (GET /v1/users/{user}/similar).
func (c *Client) Similar(ctx context.Context, user string, n int) (*SimilarResponse, error) {
	var out SimilarResponse
	return &out, c.do(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(user)+"/similar"+nQuery(n), nil, &out)
}

// Profile describes a person, with up to n top liked and disliked images;
// n <= 0 leaves the server's default (GET /v1/users/{user}/profile).
func (c *Client) Profile(ctx context.Context, user string, n int) (*Profile, error) {
	var out Profile
	return &out, c.do(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(user)+"/profile"+nQuery(n), nil, &out)
}

// Users lists every person with a record (GET /v1/users).
func (c *Client) Users(ctx context.Context) (*UsersResponse, error) {
	var out UsersResponse
	return &out, c.do(ctx, http.MethodGet, "/v1/users", nil, &out)
}

// Model describes the model being served (GET /v1/model).
func (c *Client) Model(ctx context.Context) (*ModelInfo, error) {
	var out ModelInfo
	return &out, c.do(ctx, http.MethodGet, "/v1/model", nil, &out)
}

// Training reports the progress of the training run the server follows
// (GET /v1/training); State is "none" when there is none.
func (c *Client) Training(ctx context.Context) (*Training, error) {
	var out Training
	return &out, c.do(ctx, http.MethodGet, "/v1/training", nil, &out)
}

// Health reports whether the process is up (GET /healthz).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	return &out, c.do(ctx, http.MethodGet, "/healthz", nil, &out)
}

// Ready reports whether the server can answer: a model is loaded and the
// store answers (GET /readyz); not ready is EUNAVAILABLE.
func (c *Client) Ready(ctx context.Context) (*Health, error) {
	var out Health
	return &out, c.do(ctx, http.MethodGet, "/readyz", nil, &out)
}

// OpenAPI returns the server's OpenAPI 3 document (GET /v1/openapi.json).
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.do(ctx, http.MethodGet, "/v1/openapi.json", nil, &out)
}

// Metrics returns the server's Prometheus metrics text (GET /metrics).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	body, err := c.raw(ctx, http.MethodGet, "/metrics", nil)
	return string(body), err
}

func nQuery(n int) string {
	if n <= 0 {
		return ""
	}
	return "?n=" + strconv.Itoa(n)
}

// do sends in as JSON (when not nil) and decodes the response into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return palate.Errorf(palate.EINVALID, "%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	data, err := c.raw(ctx, method, path, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return palate.Errorf(palate.EINTERNAL, "%s %s: bad response from server: %w", method, path, err)
	}
	return nil
}

func (c *Client) raw(ctx context.Context, method, path string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, palate.Errorf(palate.EUNAVAILABLE, "palate server %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return nil, decodeError(resp.StatusCode, data)
	}
	return data, nil
}

// decodeError turns an error response into a *palate.Error, keeping the
// server's code; a body that is not an ErrorResponse gets the code of the
// status.
func decodeError(status int, data []byte) error {
	var er ErrorResponse
	if err := json.Unmarshal(data, &er); err == nil && er.Error.Code != "" {
		return &palate.Error{Code: er.Error.Code, Message: er.Error.Message}
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return &palate.Error{Code: Code(status), Message: fmt.Sprintf("HTTP %d %s: %s", status, http.StatusText(status), text)}
}

// ImageFile returns the picture file of a stored image
// (GET /v1/images/{id}/file).
func (c *Client) ImageFile(ctx context.Context, id string) ([]byte, error) {
	return c.raw(ctx, http.MethodGet, "/v1/images/"+url.PathEscape(id)+"/file", nil)
}

// Generate makes, embeds and stores fresh pictures (POST /v1/generate).
func (c *Client) Generate(ctx context.Context, req GenerateRequest) (*GenerateResponse, error) {
	var out GenerateResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/generate", req, &out)
}

// Map returns every person with a usable history as a point of the taste
// map (GET /v1/map).
func (c *Client) Map(ctx context.Context) (*MapResponse, error) {
	var out MapResponse
	return &out, c.do(ctx, http.MethodGet, "/v1/map", nil, &out)
}

// Guide makes a picture guided toward user's taste and an unguided one
// (POST /v1/users/{user}/guide).
func (c *Client) Guide(ctx context.Context, user string, req GuideRequest) (*GuideResponse, error) {
	var out GuideResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(user)+"/guide", req, &out)
}
