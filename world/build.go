package world

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"palate"
	"palate/dataset"
	"palate/internal/outdir"
)

// Truth file names, beside the dataset files. Tools that learn never read
// them; only evaluation does.
const (
	WorldFile      = "world.json"
	TruthFile      = "truth.jsonl"       // one Person per line
	ImageTruthFile = "image_truth.jsonl" // one Shown per line
	// TruthEmbedder names the embedding made of the true attributes
	// (AttrVector): the embedder diagnostic, only for synthetic worlds.
	TruthEmbedder = "truth"
	// TruthVersion versions AttrVector's layout.
	TruthVersion = "1"
)

// Summary describes a built world; it is printed and stored in world.json.
type Summary struct {
	Users           int     `json:"users"`
	SeenUsers       int     `json:"seen_users"`
	UnseenUsers     int     `json:"unseen_users"`
	ValidationUsers int     `json:"validation_users"`
	DriftingUsers   int     `json:"drifting_users"`
	Images          int     `json:"images"`
	Comparisons     int     `json:"comparisons"`
	Votes           int     `json:"votes"`
	TieRate         float64 `json:"tie_rate"`
	LikeRate        float64 `json:"like_rate"`
	// Reference predictors on the non-tied test comparisons of seen people
	// (after their cutoff) and of unseen people (all of theirs).
	Seen   Accuracies `json:"seen"`
	Unseen Accuracies `json:"unseen"`
	All    Accuracies `json:"all"`
	// Embedders whose embeddings the build wrote.
	Embedders []string `json:"embedders"`
	Seconds   float64  `json:"seconds"`
}

// Accuracies are the reference predictors' pairwise accuracies.
type Accuracies struct {
	N            int     `json:"n"`
	Oracle       float64 `json:"oracle"`
	GroupOracle  float64 `json:"group_oracle"`
	GlobalOracle float64 `json:"global_oracle"`
}

func accuracies(o Oracles) Accuracies {
	a, g, q := o.Accuracy()
	return Accuracies{N: o.N, Oracle: a, GroupOracle: g, GlobalOracle: q}
}

// Progress is told how many of total people are done.
type Progress func(done, total int)

// built is one person's finished output, ready to be written in order.
type built struct {
	h      *History
	vecs   [][]float32 // embedder vectors, by image
	oracle Oracles
	err    error
}

// Build writes the world into dir as a dataset directory (see package
// dataset) with its truth files, rendering every image, embedding it with
// emb (nil: only the truth embedding is written, which needs images "png" so
// a pixel embedder can run later) and saving PNGs when Images is "png".
// People are made in parallel and written in order, a bounded number at a
// time, so memory stays flat however large the world. dir must not exist or
// be empty; a symbolic link at dir is followed (a dangling one too), so the
// world lands where it points. The world is built beside it and renamed
// into place, so an interrupted build never leaves a half world at dir.
func (w *World) Build(ctx context.Context, dir string, emb palate.Embedder, progress Progress) (*Summary, error) {
	start := time.Now()
	cfg := &w.Config
	if emb == nil && cfg.Images == "none" {
		return nil, palate.Errorf(palate.EINVALID, "world: images \"none\" needs an embedder, or nothing of the pictures would be kept")
	}
	// Build where a link points, keeping it.
	dir, ents, err := outdir.Entries(dir, "world: output directory")
	if err != nil {
		return nil, err
	}
	if len(ents) > 0 {
		return nil, palate.Errorf(palate.ECONFLICT, "world: %s exists and is not empty; choose a new directory", dir)
	}
	tmp := dir + fmt.Sprintf(".partial-%d", os.Getpid())
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	s, err := w.build(ctx, tmp, emb, progress)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.Seconds = time.Since(start).Seconds()
	if err := w.writeWorldFile(tmp, s); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	os.Remove(dir) // an empty directory, or absent (checked above)
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("world: moving the built world into place: %w", err)
	}
	return s, nil
}

func (w *World) build(ctx context.Context, dir string, emb palate.Embedder, progress Progress) (*Summary, error) {
	cfg := &w.Config
	dw, err := dataset.Create(dir)
	if err != nil {
		return nil, err
	}
	defer dw.Close()
	var ew *dataset.EmbeddingWriter
	if emb != nil {
		ew, err = dataset.CreateEmbeddings(dir, emb.Name(), embedderVersion(emb), emb.Dim())
		if err != nil {
			return nil, err
		}
		defer ew.Close()
	}
	tw, err := dataset.CreateEmbeddings(dir, TruthEmbedder, TruthVersion, AttrVectorDim)
	if err != nil {
		return nil, err
	}
	defer tw.Close()
	if cfg.Images == "png" {
		if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
			return nil, err
		}
	}
	people, err := newJSONL(filepath.Join(dir, TruthFile))
	if err != nil {
		return nil, err
	}
	defer people.Close() // a no-op after the checked Close below
	shown, err := newJSONL(filepath.Join(dir, ImageTruthFile))
	if err != nil {
		return nil, err
	}
	defer shown.Close()

	splits := &dataset.Splits{Cutoff: map[string]time.Time{}}
	s := &Summary{Users: cfg.Users}
	var seen, unseen Oracles
	var ties, likes int

	workers := runtime.GOMAXPROCS(0)
	chunk := 4 * workers
	out := make([]built, chunk)
	for lo := 0; lo < cfg.Users; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(cfg.Users, lo+chunk)
		var wg sync.WaitGroup
		next := make(chan int)
		for k := 0; k < workers; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					out[i-lo] = w.makePerson(ctx, i, dir, emb)
				}
			}()
		}
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for k := range out[:hi-lo] {
			b := &out[k]
			if b.err != nil {
				return nil, b.err
			}
			h, p := b.h, b.h.Person
			for j := range h.Images {
				im := &h.Images[j]
				path := ""
				if cfg.Images == "png" {
					path = "images/" + im.ID + ".png"
				}
				if err := dw.Image(palate.Image{ID: im.ID, Prompt: im.Prompt, Path: path}); err != nil {
					return nil, err
				}
				if ew != nil {
					if err := ew.Add(im.ID, b.vecs[j]); err != nil {
						return nil, err
					}
				}
				if err := tw.Add(im.ID, AttrVector(&im.Attrs)); err != nil {
					return nil, err
				}
				if err := shown.write(im); err != nil {
					return nil, err
				}
			}
			for _, c := range h.Comparisons {
				if c.Label0 == 0.5 {
					ties++
				}
				if err := dw.Comparison(c); err != nil {
					return nil, err
				}
			}
			for _, v := range h.Votes {
				if v.Liked() {
					likes++
				}
				if err := dw.Vote(v); err != nil {
					return nil, err
				}
			}
			if err := people.write(p); err != nil {
				return nil, err
			}
			s.Images += len(h.Images)
			s.Comparisons += len(h.Comparisons)
			s.Votes += len(h.Votes)
			if p.Drifts() {
				s.DriftingUsers++
			}
			switch p.Part {
			case PartSeen:
				s.SeenUsers++
				splits.Cutoff[p.ID] = h.Cutoff
				seen.Add(b.oracle)
			case PartUnseen:
				s.UnseenUsers++
				splits.UnseenUsers = append(splits.UnseenUsers, p.ID)
				unseen.Add(b.oracle)
			case PartValidation:
				s.ValidationUsers++
				splits.ValidationUsers = append(splits.ValidationUsers, p.ID)
			}
			out[k] = built{}
		}
		if progress != nil {
			progress(hi, cfg.Users)
		}
	}
	for _, c := range []interface{ Close() error }{dw, tw, people, shown} {
		if err := c.Close(); err != nil {
			return nil, err
		}
	}
	if ew != nil {
		if err := ew.Close(); err != nil {
			return nil, err
		}
		s.Embedders = append(s.Embedders, emb.Name())
	}
	s.Embedders = append(s.Embedders, TruthEmbedder)
	if err := dataset.WriteSplits(dir, splits); err != nil {
		return nil, err
	}
	if s.Comparisons > 0 {
		s.TieRate = float64(ties) / float64(s.Comparisons)
	}
	if s.Votes > 0 {
		s.LikeRate = float64(likes) / float64(s.Votes)
	}
	all := seen
	all.Add(unseen)
	s.Seen, s.Unseen, s.All = accuracies(seen), accuracies(unseen), accuracies(all)
	return s, nil
}

// makePerson simulates person i, renders their images, saves the PNGs and
// embeds them.
func (w *World) makePerson(ctx context.Context, i int, dir string, emb palate.Embedder) built {
	h := w.Simulate(i)
	b := built{h: h, oracle: w.OracleCounts(h)}
	if emb == nil && w.Config.Images != "png" {
		return b
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers}
	for j := range h.Images {
		im := &h.Images[j]
		img := Draw(im.Attrs, im.Latent.Seed, w.Config.ImageSize)
		if emb != nil {
			v, err := emb.Embed(ctx, img)
			if err != nil {
				b.err = fmt.Errorf("world: embedding %s: %w", im.ID, err)
				return b
			}
			b.vecs = append(b.vecs, v)
		}
		if w.Config.Images == "png" {
			buf.Reset()
			if err := enc.Encode(&buf, img); err != nil {
				b.err = err
				return b
			}
			if err := os.WriteFile(filepath.Join(dir, "images", im.ID+".png"), buf.Bytes(), 0o644); err != nil {
				b.err = fmt.Errorf("world: writing image %s: %w", im.ID, err)
				return b
			}
		}
	}
	return b
}

// pngBuffers reuses the PNG encoder's buffers across images (they were 8%
// of a build's time as fresh allocations).
var pngBuffers pngPool

type pngPool struct{ p sync.Pool }

func (q *pngPool) Get() *png.EncoderBuffer {
	b, _ := q.p.Get().(*png.EncoderBuffer)
	return b
}

func (q *pngPool) Put(b *png.EncoderBuffer) { q.p.Put(b) }

// worldFile is world.json: the config the world was made from and its summary.
type worldFile struct {
	Config  Config   `json:"config"`
	Summary *Summary `json:"summary"`
}

func (w *World) writeWorldFile(dir string, s *Summary) error {
	b, err := json.MarshalIndent(worldFile{Config: w.Config, Summary: s}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, WorldFile), append(b, '\n'), 0o644)
}

// embedderVersion returns emb's Version() when it has one.
func embedderVersion(emb palate.Embedder) string {
	if v, ok := emb.(interface{ Version() string }); ok {
		return v.Version()
	}
	return ""
}

// jsonlFile writes one JSON value a line.
type jsonlFile struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
}

func newJSONL(path string) (*jsonlFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	return &jsonlFile{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (j *jsonlFile) write(v any) error { return j.enc.Encode(v) }

func (j *jsonlFile) Close() error {
	if j.f == nil {
		return nil
	}
	err := j.w.Flush()
	if e := j.f.Close(); err == nil {
		err = e
	}
	j.f = nil
	return err
}

// ReadTruth reads the people of a built world (truth.jsonl). Only
// evaluation may call it.
func ReadTruth(dir string) ([]*Person, error) {
	f, err := os.Open(filepath.Join(dir, TruthFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*Person
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for line := 1; dec.More(); line++ {
		p := new(Person)
		if err := dec.Decode(p); err != nil {
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: %v", TruthFile, line, err)
		}
		out = append(out, p)
	}
	return out, nil
}
