package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"palate"
	"palate/dataset"
)

// importBatch is how many records one store write carries (a variable so
// tests can cross batch boundaries with small datasets).
var importBatch = 1000

// importPause is slept after each batch of comparisons or votes: zero,
// except in the kill -9 test's child, which must still be importing when the
// parent looks, however fast the machine.
var importPause time.Duration

// errStop ends a dataset scan early; the real error is kept beside it.
var errStop = errors.New("stop")

// importDB loads the dataset o.Data into the store at o.DB: images, every
// embeddings table, comparisons and votes, in batches. It first reads the
// whole dataset to check it (so a bad line is reported before anything is
// written), then writes. Writes are idempotent, so a run that was
// interrupted is finished by running it again: what is already stored is
// counted as such and not written twice.
func importDB(ctx context.Context, env *Env, o importOptions) error {
	if o.Data == "" {
		return usagef("--db needs --data DIR, the dataset to load")
	}
	if o.DB == "mem:" {
		return usagef("--db mem: is an in-memory store that ends with this command, so nothing would be kept; import into sqlite:FILE or postgres://...")
	}
	start := time.Now()
	counts, err := checkDataset(o.Data)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, o.DB)
	if err != nil {
		return err
	}
	defer s.Close()

	var parts []string
	report := func(what string, w palate.Written) {
		parts = append(parts, fmt.Sprintf("%s %d new, %d already there", what, w.Inserted, w.Duplicate))
	}

	w, err := importFile(ctx, env, o.Data, dataset.ImagesFile, "images", counts.images, dataset.ScanImages, s.PutImages)
	if err != nil {
		return err
	}
	report("images", w)

	names, err := dataset.EmbeddingNames(o.Data)
	if err != nil {
		return err
	}
	for _, name := range names {
		w, skipped, err := loadEmbeddings(ctx, env, s, o.Data, name, counts.imageIDs)
		if err != nil {
			return err
		}
		report("embeddings "+name, w)
		if skipped > 0 {
			parts[len(parts)-1] += fmt.Sprintf(" (%d rows name images not in %s and were left out)", skipped, dataset.ImagesFile)
		}
	}

	w, err = importFile(ctx, env, o.Data, dataset.ComparisonsFile, "comparisons", counts.comparisons, dataset.ScanComparisons, s.AddComparisons)
	if err != nil {
		return err
	}
	report("comparisons", w)
	w, err = importFile(ctx, env, o.Data, dataset.VotesFile, "votes", counts.votes, dataset.ScanVotes, s.AddVotes)
	if err != nil {
		return err
	}
	report("votes", w)

	fmt.Fprintf(env.Stdout, "imported %s into %s in %s: %s\n", o.Data, redact(o.DB),
		time.Since(start).Round(time.Millisecond), strings.Join(parts, "; "))
	return nil
}

// datasetCounts is what checkDataset found.
type datasetCounts struct {
	images, comparisons, votes int
	imageIDs                   map[string]bool
}

// checkDataset reads the dataset's record files once, checking every record
// and that comparisons and votes name known images, and counts them.
// Errors name the file and line.
func checkDataset(dir string) (*datasetCounts, error) {
	c := &datasetCounts{imageIDs: make(map[string]bool)}
	err := dataset.ScanImages(filepath.Join(dir, dataset.ImagesFile), func(im palate.Image) error {
		c.images++
		c.imageIDs[im.ID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	known := func(field, id string) error {
		if !c.imageIDs[id] {
			return palate.Errorf(palate.EINVALID, "%s %q is not in %s", field, id, dataset.ImagesFile)
		}
		return nil
	}
	err = scanIfExists(filepath.Join(dir, dataset.ComparisonsFile), dataset.ScanComparisons, func(x palate.Comparison) error {
		c.comparisons++
		if err := known("image_0", x.Image0); err != nil {
			return err
		}
		return known("image_1", x.Image1)
	})
	if err != nil {
		return nil, err
	}
	err = scanIfExists(filepath.Join(dir, dataset.VotesFile), dataset.ScanVotes, func(x palate.Vote) error {
		c.votes++
		return known("image", x.Image)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// scanIfExists runs scan on path unless the (optional) file is absent.
func scanIfExists[T any](path string, scan func(string, func(T) error) error, fn func(T) error) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return scan(path, fn)
}

// importFile streams one record file of dir into the store with put, in
// batches, showing progress against total.
func importFile[T any](ctx context.Context, env *Env, dir, file, label string, total int,
	scan func(string, func(T) error) error, put func(context.Context, []T) (palate.Written, error)) (palate.Written, error) {
	var sum palate.Written
	if total == 0 {
		return sum, nil
	}
	bar := newProgress(env.Stderr, label, total, label)
	defer bar.done()
	batch := make([]T, 0, importBatch)
	done := 0
	var putErr error
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		w, err := put(ctx, batch)
		if err != nil {
			putErr = palate.Errorf(palate.ErrorCode(err), "%s: records %d-%d: %w", file, done+1, done+len(batch), err)
			return errStop
		}
		sum.Inserted += w.Inserted
		sum.Duplicate += w.Duplicate
		done += len(batch)
		batch = batch[:0]
		bar.set(done, total)
		if importPause > 0 {
			time.Sleep(importPause)
		}
		return nil
	}
	err := scanIfExists(filepath.Join(dir, file), scan, func(x T) error {
		batch = append(batch, x)
		if len(batch) < importBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if putErr != nil {
		return sum, putErr
	}
	return sum, err
}

// loadEmbeddings writes one embeddings table in batches, leaving out rows
// for images the dataset does not have (a table may serve several
// datasets); it returns how many it left out.
func loadEmbeddings(ctx context.Context, env *Env, s palate.Store, dir, name string, images map[string]bool) (palate.Written, int, error) {
	var sum palate.Written
	e, err := dataset.ReadEmbeddings(dir, name)
	if err != nil {
		return sum, 0, err
	}
	var rows []int
	for i, id := range e.IDs {
		if images[id] {
			rows = append(rows, i)
		}
	}
	bar := newProgress(env.Stderr, "embeddings "+name, len(rows), "vectors")
	defer bar.done()
	for lo := 0; lo < len(rows); lo += importBatch {
		part := rows[lo:min(lo+importBatch, len(rows))]
		ids := make([]string, len(part))
		vecs := make([][]float32, len(part))
		for j, i := range part {
			ids[j], vecs[j] = e.IDs[i], e.Row(i)
		}
		w, err := s.PutEmbeddings(ctx, e.Embedder, ids, vecs)
		if err != nil {
			return sum, 0, palate.Errorf(palate.ErrorCode(err), "embeddings %s: rows %d-%d: %w", name, lo+1, lo+len(part), err)
		}
		sum.Inserted += w.Inserted
		sum.Duplicate += w.Duplicate
		bar.set(lo+len(part), len(rows))
	}
	return sum, len(e.IDs) - len(rows), nil
}
