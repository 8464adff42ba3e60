package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"palate"
	"palate/api"
	"palate/guide"
	"palate/world"
)

// generatedPrefix starts the id of every picture the server makes.
const generatedPrefix = "gen-"

// maxGenerate bounds n of one generate request.
const maxGenerate = 64

// tasteWorld is what the server knows of a taste world: its config, the
// world rebuilt from it, and the simulated people's truth by id.
type tasteWorld struct {
	cfg    world.Config
	w      *world.World
	people map[string]*world.Person
	styles []world.PromptStyle
}

// loadWorld reads dir/world.json and dir/truth.jsonl; it returns nil, nil
// when dir is not a taste world.
func loadWorld(dir string) (*tasteWorld, error) {
	b, err := os.ReadFile(filepath.Join(dir, world.WorldFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "images dir: %w", err)
	}
	var wf struct {
		Config world.Config `json:"config"`
	}
	if err := json.Unmarshal(b, &wf); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "%s: %v", filepath.Join(dir, world.WorldFile), err)
	}
	w, err := world.New(wf.Config)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "%s: %w", filepath.Join(dir, world.WorldFile), err)
	}
	tw := &tasteWorld{cfg: wf.Config, w: w, people: map[string]*world.Person{}}
	people, err := world.ReadTruth(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, palate.Errorf(palate.ErrorCode(err), "%s: %w", filepath.Join(dir, world.TruthFile), err)
	}
	for _, p := range people {
		tw.people[p.ID] = p
		tw.styles = append(tw.styles, p.Style)
	}
	return tw, nil
}

// fileURL is the path of an image's picture on this server.
func fileURL(id string) string { return "/v1/images/" + url.PathEscape(id) + "/file" }

// imageFile serves the picture of a stored image: a dataset image's file
// under the images directory, or a picture the server generated.
func (s *Server) imageFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	imgs, err := s.store.Images(r.Context(), []string{id})
	if err != nil {
		return err
	}
	var path string
	switch p := imgs[0].Path; {
	case p != "" && s.imagesDir != "":
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return palate.Errorf(palate.EINVALID, "image %q: its path %q leaves the images directory", id, p)
		}
		path = filepath.Join(s.imagesDir, filepath.FromSlash(p))
	case p == "" && s.generatedDir != "" && strings.HasPrefix(id, generatedPrefix) && safeName(id):
		path = filepath.Join(s.generatedDir, id+".png")
	case p != "":
		return palate.Errorf(palate.ENOTFOUND, "image %q: its file %q is in a dataset directory this server was not given (serve --images DIR)", id, p)
	default:
		return palate.Errorf(palate.ENOTFOUND, "image %q has no picture file on this server (it was added as a vector or an upload)", id)
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		// The server's own directories stay out of the answer.
		s.log.Warn("a stored image's file is missing", "image", id, "path", path)
		return palate.Errorf(palate.ENOTFOUND, "image %q has no picture file on this server (its file is missing)", id)
	}
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "image %q: %w", id, err)
	}
	ct := http.DetectContentType(data)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Pictures never change under an id; behind keys, only the client may
	// keep them (a shared cache would hand them to requests without a key).
	if s.readKey != "" || s.writeKey != "" {
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	}
	_, _ = w.Write(data)
	return nil
}

// safeName reports whether s is a plain file name of letters, digits, '-'
// and '_'.
func safeName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// generateRequest mirrors api.GenerateRequest.
type generateRequest struct {
	Prompt string `json:"prompt"`
	N      int    `json:"n"`
	Seed   uint64 `json:"seed"`
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req generateRequest
	if err := decodeStrict(body, &req, ""); err != nil {
		return err
	}
	switch {
	case req.N < 1:
		return palate.Errorf(palate.EINVALID, "n: %d, want at least 1 picture", req.N)
	case req.N > maxGenerate:
		return palate.Errorf(palate.ETOOLARGE, "n: %d, over the limit of %d", req.N, maxGenerate)
	case len(req.Prompt) > 1000:
		return palate.Errorf(palate.ETOOLARGE, "prompt: %d bytes, over the limit of 1000", len(req.Prompt))
	}
	if err := s.canGenerate(); err != nil {
		return err
	}
	rng := s.rng(req.Seed)
	prompt := strings.TrimSpace(req.Prompt)
	if prompt == "" {
		prompt = s.samplePrompt(rng)
	}
	gens := make([]*guide.Generated, req.N)
	for i := range gens {
		l := s.gen.Sample(rng, prompt)
		img, err := s.gen.Generate(r.Context(), prompt, l)
		if err != nil {
			return err
		}
		gens[i] = &guide.Generated{Prompt: prompt, Latent: l, Image: img}
	}
	ids, err := s.keep(r.Context(), gens)
	if err != nil {
		return err
	}
	out := api.GenerateResponse{Prompt: prompt, Generator: s.gen.Name(), Images: make([]api.GeneratedImage, len(ids))}
	for i, id := range ids {
		out.Images[i] = api.GeneratedImage{ID: id, URL: fileURL(id)}
	}
	return writeJSON(w, http.StatusOK, out)
}

// canGenerate says why the server cannot make pictures, if it cannot.
func (s *Server) canGenerate() error {
	switch {
	case s.gen == nil:
		return palate.Errorf(palate.ENOTIMPLEMENTED, "this server has no picture generator: start it with --images DIR of a taste world")
	case s.generatedDir == "":
		return palate.Errorf(palate.ENOTIMPLEMENTED, "this server has no directory to keep generated pictures in")
	}
	return nil
}

// rng returns a generator seeded by seed, or randomly when seed is 0.
func (s *Server) rng(seed uint64) *mrand.Rand {
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for i, c := range b {
			seed |= uint64(c) << (8 * i)
		}
	}
	return mrand.New(mrand.NewPCG(seed, 0x67656e))
}

// defaultStyle writes prompts when the world's people are unknown.
var defaultStyle = world.PromptStyle{
	Subjects: []float64{1, 1, 1, 1, 1, 1, 1, 1},
	NameSubj: 0.9, NameCount: 0.4, NameHue: 0.3, NameSat: 0.2, NameLight: 0.2, NameStyle: 0.2, NameBackgr: 0.3,
}

// samplePrompt writes a prompt as a random person of the world would.
func (s *Server) samplePrompt(r *mrand.Rand) string {
	st := defaultStyle
	if s.world != nil && len(s.world.styles) > 0 {
		st = s.world.styles[r.IntN(len(s.world.styles))]
	}
	return st.MakePrompt(r).Text
}

// keep writes each picture to the generated directory, embeds it and
// stores it as an image with its vector; it returns the new ids.
func (s *Server) keep(ctx context.Context, gens []*guide.Generated) ([]string, error) {
	ids := make([]string, len(gens))
	imgs := make([]palate.Image, len(gens))
	vecs := make([][]float32, len(gens))
	if err := os.MkdirAll(s.generatedDir, 0o755); err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "generated pictures: %w", err)
	}
	for i, g := range gens {
		var b [8]byte
		_, _ = rand.Read(b[:])
		ids[i] = generatedPrefix + hex.EncodeToString(b[:])
		v, err := g.Embedding(ctx, s.embedder)
		if err != nil {
			return nil, err
		}
		vecs[i] = v
		if err := writePNG(filepath.Join(s.generatedDir, ids[i]+".png"), g.Image); err != nil {
			return nil, err
		}
		imgs[i] = palate.Image{ID: ids[i], Prompt: g.Prompt}
	}
	if _, err := s.store.PutImages(ctx, imgs); err != nil {
		return nil, err
	}
	if _, err := s.store.PutEmbeddings(ctx, s.embedder.Name(), ids, vecs); err != nil {
		return nil, err
	}
	s.metrics.records.WithLabelValues("image").Add(float64(len(ids)))
	return ids, nil
}

// writePNG writes img to path atomically (a temporary file renamed).
func writePNG(path string, img image.Image) error {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return palate.Errorf(palate.EINTERNAL, "encode picture: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return palate.Errorf(palate.EINTERNAL, "write picture: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return palate.Errorf(palate.EINTERNAL, "write picture: %w", err)
	}
	return nil
}
