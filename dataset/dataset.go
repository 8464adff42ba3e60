package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"palate"
)

// File names inside a dataset directory.
const (
	ImagesFile      = "images.jsonl"
	ComparisonsFile = "comparisons.jsonl"
	VotesFile       = "votes.jsonl"
	SplitsFile      = "splits.json"
	EmbeddingsDir   = "embeddings"
)

// Dataset is a whole dataset held in memory. Embeddings are not part of it:
// they are large, there may be several, and a caller usually wants one; read
// them with ReadEmbeddings.
type Dataset struct {
	Dir         string // the directory Read read it from; Write ignores it
	Images      []palate.Image
	Comparisons []palate.Comparison
	Votes       []palate.Vote
	Splits      *Splits // nil when splits.json is absent
}

// Read reads the dataset in dir and checks it whole: every record, unique
// ids, that every comparison and vote names a known image, and that splits
// name only people who interacted. Returns EINVALID, with file and line, for
// the first problem found, and EINVALID when images.jsonl is missing.
func Read(dir string) (*Dataset, error) {
	d := &Dataset{Dir: dir}
	known := make(map[string]struct{})
	err := ScanImages(filepath.Join(dir, ImagesFile), func(im palate.Image) error {
		d.Images = append(d.Images, im)
		known[im.ID] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	users := make(map[string]struct{})
	err = scanOptional(filepath.Join(dir, ComparisonsFile), func(path string) error {
		return ScanComparisons(path, func(c palate.Comparison) error {
			if err := knownImage(known, "image_0", c.Image0); err != nil {
				return err
			}
			if err := knownImage(known, "image_1", c.Image1); err != nil {
				return err
			}
			d.Comparisons = append(d.Comparisons, c)
			users[c.User] = struct{}{}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	err = scanOptional(filepath.Join(dir, VotesFile), func(path string) error {
		return ScanVotes(path, func(v palate.Vote) error {
			if err := knownImage(known, "image", v.Image); err != nil {
				return err
			}
			d.Votes = append(d.Votes, v)
			users[v.User] = struct{}{}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if d.Splits, err = ReadSplits(dir); err != nil {
		return nil, err
	}
	if err := d.Splits.checkUsers(users); err != nil {
		return nil, at(filepath.Join(dir, SplitsFile), err)
	}
	return d, nil
}

func knownImage(known map[string]struct{}, field, id string) error {
	if _, ok := known[id]; !ok {
		return invalid("%s %q is not in %s", field, id, ImagesFile)
	}
	return nil
}

// scanOptional runs scan on path unless the file does not exist.
func scanOptional(path string, scan func(path string) error) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return scan(path)
}

// ScanImages calls fn for each image in the images.jsonl file at path, in
// file order, without holding the file in memory. It checks each record and
// that ids are unique. An error from fn stops the scan and is returned with
// the file and line prefixed to its message and its code kept.
func ScanImages(path string, fn func(palate.Image) error) error {
	return scanFile(path, parseImage, func(im palate.Image) string { return im.ID }, fn)
}

// ScanComparisons is ScanImages for a comparisons.jsonl file. It cannot know
// the images, so checking that image ids exist is the caller's (Read's) job.
func ScanComparisons(path string, fn func(palate.Comparison) error) error {
	return scanFile(path, parseComparison, func(c palate.Comparison) string { return c.ID }, fn)
}

// ScanVotes is ScanImages for a votes.jsonl file. It cannot know the images,
// so checking that image ids exist is the caller's (Read's) job.
func ScanVotes(path string, fn func(palate.Vote) error) error {
	return scanFile(path, parseVote, func(v palate.Vote) string { return v.ID }, fn)
}

func scanFile[T any](path string, parse func([]byte) (T, error), id func(T) string, fn func(T) error) error {
	f, err := os.Open(path)
	if err != nil {
		return openError(path, err)
	}
	defer f.Close()
	return scanRecords(path, f, parse, id, fn)
}

// scanRecords parses every line of r as a record, checks ids are unique, and
// calls fn; name stands for the file in errors.
func scanRecords[T any](name string, r io.Reader, parse func([]byte) (T, error), id func(T) string, fn func(T) error) error {
	seen := make(map[string]int)
	return scanReader(name, r, func(line int, b []byte) error {
		rec, err := parse(b)
		if err != nil {
			return err
		}
		if err := unique(seen, id(rec), "line", line); err != nil {
			return err
		}
		return fn(rec)
	})
}

// ReadImages reads a whole images.jsonl file; see ScanImages.
func ReadImages(path string) ([]palate.Image, error) {
	var out []palate.Image
	err := ScanImages(path, func(im palate.Image) error { out = append(out, im); return nil })
	return out, err
}

// ReadComparisons reads a whole comparisons.jsonl file; see ScanComparisons.
func ReadComparisons(path string) ([]palate.Comparison, error) {
	var out []palate.Comparison
	err := ScanComparisons(path, func(c palate.Comparison) error { out = append(out, c); return nil })
	return out, err
}

// ReadVotes reads a whole votes.jsonl file; see ScanVotes.
func ReadVotes(path string) ([]palate.Vote, error) {
	var out []palate.Vote
	err := ScanVotes(path, func(v palate.Vote) error { out = append(out, v); return nil })
	return out, err
}

// unique records id as seen at record n (unit says whether n is a "line" or
// an "index") and fails if it was seen before.
func unique(seen map[string]int, id, unit string, n int) error {
	if first, ok := seen[id]; ok {
		return invalid("duplicate id %q (first seen at %s %d)", id, unit, first)
	}
	seen[id] = n
	return nil
}

// Validate checks d by the rules Read applies, so that what Write writes can
// be read back. Returns EINVALID naming the record (as images[i] and so on)
// for the first problem found.
func (d *Dataset) Validate() error {
	known := make(map[string]int, len(d.Images))
	for i, im := range d.Images {
		if err := checkImage(im); err != nil {
			return at(fmt.Sprintf("images[%d]", i), err)
		}
		if err := unique(known, im.ID, "index", i); err != nil {
			return at(fmt.Sprintf("images[%d]", i), err)
		}
	}
	isKnown := func(field, id string) error {
		if _, ok := known[id]; !ok {
			return invalid("%s %q is not among the images", field, id)
		}
		return nil
	}
	users := make(map[string]struct{})
	seen := make(map[string]int, len(d.Comparisons))
	for i, c := range d.Comparisons {
		err := checkComparison(c)
		if err == nil {
			err = unique(seen, c.ID, "index", i)
		}
		if err == nil {
			err = isKnown("image_0", c.Image0)
		}
		if err == nil {
			err = isKnown("image_1", c.Image1)
		}
		if err != nil {
			return at(fmt.Sprintf("comparisons[%d]", i), err)
		}
		users[c.User] = struct{}{}
	}
	seen = make(map[string]int, len(d.Votes))
	for i, v := range d.Votes {
		err := checkVote(v)
		if err == nil {
			err = unique(seen, v.ID, "index", i)
		}
		if err == nil {
			err = isKnown("image", v.Image)
		}
		if err != nil {
			return at(fmt.Sprintf("votes[%d]", i), err)
		}
		users[v.User] = struct{}{}
	}
	if d.Splits != nil {
		err := d.Splits.check()
		if err == nil {
			err = d.Splits.checkUsers(users)
		}
		if err != nil {
			return at("splits", err)
		}
	}
	return nil
}

// Write writes d to dir, creating dir if needed, after checking it with
// Validate (so nothing is written when it returns EINVALID). Each file is
// replaced atomically; a nil d.Splits removes splits.json, so Read(dir)
// returns what was written. d.Dir is ignored. Embeddings are untouched.
func Write(dir string, d *Dataset) error {
	if d == nil {
		return invalid("Write: nil dataset")
	}
	if err := d.Validate(); err != nil {
		return err
	}
	w, err := Create(dir)
	if err != nil {
		return err
	}
	for _, im := range d.Images {
		if err := w.Image(im); err != nil {
			w.Abort()
			return err
		}
	}
	for _, c := range d.Comparisons {
		if err := w.Comparison(c); err != nil {
			w.Abort()
			return err
		}
	}
	for _, v := range d.Votes {
		if err := w.Vote(v); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if d.Splits == nil {
		err := os.Remove(filepath.Join(dir, SplitsFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return palate.Errorf(palate.EINTERNAL, "%s: %w", filepath.Join(dir, SplitsFile), err)
		}
		return nil
	}
	return WriteSplits(dir, d.Splits)
}
