package dataset

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"palate"
)

// Writer streams a dataset to disk record by record, for datasets too large
// to hold in memory (a world with a million comparisons). Records go to
// temporary files that Close renames into place, so until then the directory
// keeps its old files, and after a failure it keeps them for good.
//
// Each record is checked as it comes by the rules Read applies; a bad record
// returns EINVALID and is not written, and the Writer stays usable. Images
// may come before or after the comparisons and votes that name them: Close
// checks that every named image was written. A Writer is not safe for
// concurrent use. It writes images.jsonl, comparisons.jsonl and votes.jsonl
// (empty ones included) and nothing else: write splits with WriteSplits
// after Close (a splits.json already in dir is left as it is).
type Writer struct {
	dir                     string
	images, comps, votes    *pendingFile
	encImg, encComp, encVot *json.Encoder

	imageIDs, compIDs, voteIDs map[string]int
	missing                    map[string]string // image id -> first record naming it, until written
	err                        error             // first write failure; sticky
	done                       bool
}

// Create starts writing a dataset into dir, creating dir if needed.
func Create(dir string) (*Writer, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	w := &Writer{
		dir:      dir,
		imageIDs: make(map[string]int),
		compIDs:  make(map[string]int),
		voteIDs:  make(map[string]int),
		missing:  make(map[string]string),
	}
	var err error
	for _, f := range []struct {
		p   **pendingFile
		enc **json.Encoder
		nm  string
	}{{&w.images, &w.encImg, ImagesFile}, {&w.comps, &w.encComp, ComparisonsFile}, {&w.votes, &w.encVot, VotesFile}} {
		if *f.p, err = createPending(filepath.Join(dir, f.nm)); err != nil {
			w.Abort()
			return nil, err
		}
		*f.enc = newEncoder((*f.p).w)
	}
	return w, nil
}

// Image writes one image.
func (w *Writer) Image(im palate.Image) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkImage(im); err != nil {
		return err
	}
	if err := unique(w.imageIDs, im.ID, "record", len(w.imageIDs)+1); err != nil {
		return at(ImagesFile, err)
	}
	delete(w.missing, im.ID)
	return w.encode(w.encImg, ImagesFile, im)
}

// Comparison writes one comparison.
func (w *Writer) Comparison(c palate.Comparison) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkComparison(c); err != nil {
		return err
	}
	if err := unique(w.compIDs, c.ID, "record", len(w.compIDs)+1); err != nil {
		return at(ComparisonsFile, err)
	}
	w.need(c.Image0, fmt.Sprintf("comparison %q image_0", c.ID))
	w.need(c.Image1, fmt.Sprintf("comparison %q image_1", c.ID))
	return w.encode(w.encComp, ComparisonsFile, c)
}

// Vote writes one vote.
func (w *Writer) Vote(v palate.Vote) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkVote(v); err != nil {
		return err
	}
	if err := unique(w.voteIDs, v.ID, "record", len(w.voteIDs)+1); err != nil {
		return at(VotesFile, err)
	}
	w.need(v.Image, fmt.Sprintf("vote %q image", v.ID))
	return w.encode(w.encVot, VotesFile, v)
}

func (w *Writer) need(image, by string) {
	if _, ok := w.imageIDs[image]; ok {
		return
	}
	if _, ok := w.missing[image]; !ok {
		w.missing[image] = by
	}
}

func (w *Writer) usable() error {
	if w.done {
		return palate.Errorf(palate.EINVALID, "dataset writer for %s is closed", w.dir)
	}
	return w.err
}

func (w *Writer) encode(enc *json.Encoder, file string, v any) error {
	if err := enc.Encode(v); err != nil {
		w.err = palate.Errorf(palate.EINTERNAL, "%s: %w", filepath.Join(w.dir, file), err)
		return w.err
	}
	return nil
}

// Close checks that every image named by a comparison or vote was written,
// and if so renames the three files into place. On any failure, earlier or
// now, it removes the temporary files, leaves the directory's old files as
// they were, and returns the error: EINVALID for a missing image, EINTERNAL
// for I/O. (Each file is replaced atomically, not the three together: should
// the second rename fail, the first file stays replaced.) Calling Close again
// returns nil.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if len(w.missing) > 0 {
		ids := sortedKeys(w.missing)
		err := invalid("%s: %s %q was never written (%d image ids missing)",
			w.dir, w.missing[ids[0]], ids[0], len(ids))
		w.Abort()
		return err
	}
	w.done = true
	for _, p := range []*pendingFile{w.images, w.comps, w.votes} {
		if err := p.commit(); err != nil {
			w.abortFiles()
			return err
		}
	}
	return nil
}

// Abort discards everything written, leaving the directory's old files as
// they were. It is safe to call after Close, when it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.abortFiles()
}

func (w *Writer) abortFiles() {
	for _, p := range []*pendingFile{w.images, w.comps, w.votes} {
		if p != nil {
			p.abort() // for a file already committed, finds nothing to remove
		}
	}
}
