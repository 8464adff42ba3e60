package train

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"palate"
	"palate/dataset"
	"palate/internal/outdir"
	"palate/model"
)

// Checkpoint is a trained model: its weights, every hyperparameter, the
// embedders that made its inputs and how training went. It is plain host
// data, independent of any GoMLX store, so a scorer can build its own.
type Checkpoint struct {
	// Config holds every hyperparameter of the model.
	Config model.Config
	// Embedder made the image vectors; TextEmbedder the prompt vectors.
	Embedder     EmbedderInfo
	TextEmbedder EmbedderInfo
	// Summary is the training summary.
	Summary Summary
	// Weights maps each variable path of model.Params(Config) to its values
	// (row-major float32).
	Weights map[string][]float32
}

// Files of a checkpoint directory. The manifest is written last and holds
// the SHA-256 of the others, so a directory whose files do not all match it
// is never loaded.
const (
	ConfigFile   = "config.json"
	WeightsFile  = "weights.bin"
	SummaryFile  = "summary.json"
	ManifestFile = "manifest.json"
)

const checkpointFormat = "palate-checkpoint-v1"

// configFile is the content of config.json.
type configFile struct {
	Format       string       `json:"format"`
	Model        savedConfig  `json:"model"`
	Embedder     EmbedderInfo `json:"embedder"`
	TextEmbedder EmbedderInfo `json:"text_embedder"`
}

// savedConfig is a model config as config.json holds it: model.Config
// beside the options palate had once and removed. A checkpoint written
// while one existed names it; at its zero value (the option off) the model
// is the one this build makes, and it loads. An option on is refused by
// name, and a key palate never had is refused as unknown: either way this
// build could not rebuild the model that was trained.
type savedConfig struct {
	model.Config
	// TasteSteps: gradient steps on the history's own likelihood, removed
	// in commit 7a6c56d.
	TasteSteps int `json:"taste_steps,omitempty"`
	// RawStep: a personal step over the image, tried in commit 1c71d13
	// and reverted.
	RawStep bool `json:"raw_step,omitempty"`
}

// retired returns the first removed option s has on, as "key = value",
// or "".
func (s savedConfig) retired() string {
	switch {
	case s.TasteSteps != 0:
		return fmt.Sprintf("taste_steps = %d", s.TasteSteps)
	case s.RawStep:
		return "raw_step = true"
	}
	return ""
}

// manifest is the content of manifest.json.
type manifest struct {
	Format string `json:"format"`
	// Files maps file name to its hex SHA-256.
	Files map[string]string `json:"files"`
	// Weights lists the tensors of weights.bin in order: little-endian
	// float32, concatenated.
	Weights []weightEntry `json:"weights"`
}

type weightEntry struct {
	Path   string `json:"path"`
	Dims   []int  `json:"dims"`
	Offset int64  `json:"offset"` // in bytes
}

// Validate checks that the weights match the config's variables.
func (c *Checkpoint) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	params := model.Params(c.Config)
	for _, p := range params {
		w, ok := c.Weights[p.Path]
		if !ok {
			return palate.Errorf(palate.EINVALID, "checkpoint: no weights for %s", p.Path)
		}
		if len(w) != size(p.Dims) {
			return palate.Errorf(palate.EINVALID, "checkpoint: %s has %d values, config wants %v", p.Path, len(w), p.Dims)
		}
	}
	if len(c.Weights) > len(params) {
		// Weights the config has no variable for: a model this build
		// would score without a part it was trained with.
		known := make(map[string]bool, len(params))
		for _, p := range params {
			known[p.Path] = true
		}
		var extra []string
		for path := range c.Weights {
			if !known[path] {
				extra = append(extra, path)
			}
		}
		slices.Sort(extra)
		return palate.Errorf(palate.EINVALID, "checkpoint: weights for %s, which the model config has no variable for (another palate version's checkpoint?)", strings.Join(extra, ", "))
	}
	return nil
}

// CheckEmbedder returns an EINVALID error naming both embedders when the
// data at hand (name, dim) was not made by the embedder this model was
// trained on. An empty name skips the name check; dim <= 0 the dimension.
func (c *Checkpoint) CheckEmbedder(name string, dim int) error {
	if (name != "" && name != c.Embedder.Name) || (dim > 0 && dim != c.Embedder.Dim) {
		return palate.Errorf(palate.EINVALID,
			"model was trained on embeddings from %q (dimension %d) but the data has %q (dimension %d): re-embed the data or retrain",
			c.Embedder.Name, c.Embedder.Dim, name, dim)
	}
	return nil
}

// CheckTextEmbedder returns an EINVALID error naming both text embedders
// when name, dim or version (empty for one without versions, such as
// hashbow-v1) differ from the one this model was trained with.
func (c *Checkpoint) CheckTextEmbedder(name string, dim int, version string) error {
	t := c.TextEmbedder
	if name != t.Name || dim != t.Dim || version != t.Version {
		return palate.Errorf(palate.EINVALID,
			"model was trained with text embedder %q (dimension %d, version %q) but was given %q (dimension %d, version %q): use the same text embedder or retrain",
			t.Name, t.Dim, t.Version, name, dim, version)
	}
	return nil
}

// saveHook, when set (tests only), is called at each step of a save; an error
// aborts the save there, as a crash would.
type saveHook func(step string) error

// Save writes ck to dir atomically: everything goes to a temporary sibling
// directory, is fsynced, and replaces dir by rename. A crash at any point
// leaves either the previous checkpoint or the new one, never a mixture; a
// directory whose files do not match its manifest is refused by Load.
//
// Save replaces only a checkpoint: dir must not exist, or be an empty
// directory, or hold a checkpoint (a manifest). Anything else there is
// refused with ECONFLICT (CheckOutDir) rather than moved aside and deleted.
func Save(dir string, ck *Checkpoint) error { return save(dir, ck, nil) }

// CheckOutDir reports whether Save may write a checkpoint to dir: nil when
// dir does not exist, is an empty directory or holds a checkpoint (a
// manifest, even one whose files are damaged: a save replaces it whole);
// ECONFLICT naming dir when it is a file or a directory holding other
// things, which a save would delete. A symbolic link at dir is followed
// (Save writes where it points and keeps the link), a dangling one too.
// Callers that train for long check it before they start.
func CheckOutDir(dir string) error {
	// "notes.txt/" is the file notes.txt; a link is followed, so a save
	// writes where it points.
	dir, ents, err := outdir.Entries(dir, "checkpoint directory")
	switch {
	case err != nil:
		return err
	case len(ents) == 0 || slices.ContainsFunc(ents, func(e os.DirEntry) bool { return e.Name() == ManifestFile }):
		return nil
	}
	return palate.Errorf(palate.ECONFLICT, "checkpoint directory %s exists, is not empty and holds no checkpoint (no %s); a save would delete what is there: choose a new directory", dir, ManifestFile)
}

func save(dir string, ck *Checkpoint, hook saveHook) (err error) {
	if hook == nil {
		hook = func(string) error { return nil }
	}
	if err := ck.Validate(); err != nil {
		return err
	}
	if dir, err = outdir.Resolve(dir); err != nil {
		return err
	}
	if err := CheckOutDir(dir); err != nil {
		return err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return palate.Errorf(palate.EINTERNAL, "save checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "save checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	fail := func(err error) error { return palate.Errorf(palate.EINTERNAL, "save checkpoint %s: %w", dir, err) }

	man := manifest{Format: checkpointFormat, Files: map[string]string{}}
	write := func(name string, data []byte) error {
		if err := hook("write " + name); err != nil {
			return err
		}
		if err := writeFileSync(filepath.Join(tmp, name), data); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		man.Files[name] = hex.EncodeToString(sum[:])
		return nil
	}

	cfgJSON, err := json.MarshalIndent(configFile{Format: checkpointFormat, Model: savedConfig{Config: ck.Config}, Embedder: ck.Embedder, TextEmbedder: ck.TextEmbedder}, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := write(ConfigFile, append(cfgJSON, '\n')); err != nil {
		return fail(err)
	}
	var weights []byte
	for _, p := range model.Params(ck.Config) {
		w := ck.Weights[p.Path]
		man.Weights = append(man.Weights, weightEntry{Path: p.Path, Dims: p.Dims, Offset: int64(len(weights))})
		for _, x := range w {
			weights = binary.LittleEndian.AppendUint32(weights, math.Float32bits(x))
		}
	}
	if err := write(WeightsFile, weights); err != nil {
		return fail(err)
	}
	sumJSON, err := json.MarshalIndent(ck.Summary, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := write(SummaryFile, append(sumJSON, '\n')); err != nil {
		return fail(err)
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := hook("write " + ManifestFile); err != nil {
		return fail(err)
	}
	if err := writeFileSync(filepath.Join(tmp, ManifestFile), append(manJSON, '\n')); err != nil {
		return fail(err)
	}
	if err := syncDir(tmp); err != nil {
		return fail(err)
	}

	// Swap: move the old checkpoint aside, the new one in, then drop the old.
	var old string
	if _, err := os.Stat(dir); err == nil {
		if err := hook("move old aside"); err != nil {
			return fail(err)
		}
		old = filepath.Join(parent, "."+base+".old-"+randomSuffix())
		if err := os.Rename(dir, old); err != nil {
			return fail(err)
		}
	}
	if err := hook("move new in"); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fail(err)
	}
	if err := syncDir(parent); err != nil {
		return fail(err)
	}
	if err := hook("remove old"); err != nil {
		return fail(err)
	}
	// The old checkpoint, and any left by an earlier interrupted save.
	stale, _ := filepath.Glob(filepath.Join(parent, "."+base+".old-*"))
	for _, p := range stale {
		_ = os.RemoveAll(p)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Load reads a checkpoint directory, verifying every file against the
// manifest. A missing directory is ENOTFOUND; a damaged, partial or foreign
// one EINVALID. If dir is missing but a save was interrupted between moving
// the old checkpoint aside and moving the new one in, Load reads the old
// one (the newest complete ".NAME.old-*" sibling).
func Load(dir string) (*Checkpoint, error) {
	// A link at dir is followed as Save follows it, so that the sibling
	// of an interrupted save is looked for beside the link's target.
	if real, rerr := outdir.Resolve(dir); rerr == nil {
		dir = real
	} else {
		dir = filepath.Clean(dir)
	}
	ck, err := load(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ck, err
	}
	// Recover from a save interrupted mid-swap.
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	matches, _ := filepath.Glob(filepath.Join(parent, "."+base+".old-*"))
	sort.Slice(matches, func(i, j int) bool { return modTime(matches[i]) > modTime(matches[j]) })
	for _, m := range matches {
		if ck, lerr := load(m); lerr == nil {
			return ck, nil
		}
	}
	return nil, err
}

func modTime(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.ModTime().UnixNano()
}

// load reads one directory; a missing directory or manifest wraps
// fs.ErrNotExist.
func load(dir string) (*Checkpoint, error) {
	invalid := func(format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "checkpoint %s: "+format, append([]any{dir}, args...)...)
	}
	manJSON, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(dir); serr == nil {
				return nil, invalid("no %s: not a checkpoint, or a save that never finished", ManifestFile)
			}
			return nil, &palate.Error{Code: palate.ENOTFOUND, Message: fmt.Sprintf("checkpoint %s: not found", dir), Err: err}
		}
		return nil, palate.Errorf(palate.EINTERNAL, "checkpoint %s: %w", dir, err)
	}
	var man manifest
	if err := json.Unmarshal(manJSON, &man); err != nil {
		return nil, invalid("bad manifest: %v", err)
	}
	if man.Format != checkpointFormat {
		return nil, invalid("format %q, want %q", man.Format, checkpointFormat)
	}
	files := map[string][]byte{}
	for _, name := range []string{ConfigFile, WeightsFile, SummaryFile} {
		want, ok := man.Files[name]
		if !ok {
			return nil, invalid("manifest does not list %s", name)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, invalid("%v", err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != want {
			return nil, invalid("%s does not match its checksum (damaged or partly written)", name)
		}
		files[name] = data
	}
	// config.json strictly: a model option this build does not know (a
	// checkpoint from a newer palate, or a hand edit) would otherwise be
	// dropped, and the model rebuilt without it would score differently.
	var cf configFile
	if err := dataset.DecodeFileObject(filepath.Join(dir, ConfigFile), files[ConfigFile], &cf); err != nil {
		return nil, err
	}
	if r := cf.Model.retired(); r != "" {
		return nil, invalid("%s: model option %s, which this palate no longer has: it cannot rebuild that model", ConfigFile, r)
	}
	ck := &Checkpoint{Config: cf.Model.Config, Embedder: cf.Embedder, TextEmbedder: cf.TextEmbedder, Weights: map[string][]float32{}}
	if err := json.Unmarshal(files[SummaryFile], &ck.Summary); err != nil {
		return nil, invalid("bad %s: %v", SummaryFile, err)
	}
	raw := files[WeightsFile]
	for _, e := range man.Weights {
		// The shape is checked before it sizes anything: the manifest has no
		// checksum of its own, and a negative or huge dimension must be an
		// error, not a panic or an allocation of gigabytes.
		n, floats := int64(1), int64(len(raw))/4
		for _, d := range e.Dims {
			if d < 1 || int64(d) > floats || n > floats/int64(d) {
				return nil, invalid("weights of %s: shape %v in %s does not fit %s (%d floats)", e.Path, e.Dims, ManifestFile, WeightsFile, floats)
			}
			n *= int64(d)
		}
		if e.Offset < 0 || e.Offset > int64(len(raw)) || e.Offset+4*n > int64(len(raw)) {
			return nil, invalid("weights of %s lie outside %s", e.Path, WeightsFile)
		}
		w := make([]float32, n)
		for i := range w {
			w[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[e.Offset+4*int64(i):]))
		}
		ck.Weights[e.Path] = w
	}
	if err := ck.Validate(); err != nil {
		return nil, invalid("%v", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "model config: "), "checkpoint: "))
	}
	return ck, nil
}

// LoadFor is Load followed by CheckEmbedder: it refuses a model trained on
// another embedder than the one that made the data at hand.
func LoadFor(dir, embedderName string, dim int) (*Checkpoint, error) {
	ck, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if err := ck.CheckEmbedder(embedderName, dim); err != nil {
		return nil, err
	}
	return ck, nil
}
