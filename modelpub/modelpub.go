// Package modelpub turns a checkpoint directory into a palate.ModelRecord
// that a store can publish, and a published record back into a checkpoint,
// so servers sharing one database all serve the same model.
//
// The archive is an uncompressed tar of the checkpoint's four files
// (config.json, weights.bin, summary.json, manifest.json), written
// deterministically: packing the same directory twice gives the same bytes
// and, when the checkpoint records when its training finished, the same
// version, so publishing it again is a no-op.
package modelpub

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"palate"
	"palate/train"
)

// files are the checkpoint files an archive holds, in archive order.
var files = []string{train.ConfigFile, train.WeightsFile, train.SummaryFile, train.ManifestFile}

// Pack reads and verifies the checkpoint in dir and returns it as a record
// ready to publish. Its version is the training finish time (UTC, to the
// minute; the packing time when the checkpoint has none) and the first 8 hex
// digits of the manifest's SHA-256, e.g. "20261127T0803-3f2a9c1b". Errors are
// those of train.Load (ENOTFOUND, EINVALID).
func Pack(dir string) (*palate.ModelRecord, error) {
	ck, err := train.Load(dir)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var manifestSum [sha256.Size]byte
	var summary []byte
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "pack model %s: %w", dir, err)
		}
		switch name {
		case train.ManifestFile:
			manifestSum = sha256.Sum256(data)
		case train.SummaryFile:
			summary = data
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0).UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "pack model %s: %w", dir, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "pack model %s: %w", dir, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "pack model %s: %w", dir, err)
	}
	created := ck.Summary.Finished.UTC()
	if created.IsZero() {
		// To the minute, as in the version: packing twice within a minute
		// gives the same record, not one version with two contents.
		created = time.Now().UTC().Truncate(time.Minute)
	}
	return &palate.ModelRecord{
		Version:  created.Format("20060102T1504") + "-" + hex.EncodeToString(manifestSum[:4]),
		Embedder: ck.Embedder.Name,
		Created:  created,
		Summary:  summary,
		Archive:  buf.Bytes(),
	}, nil
}

// Unpack writes the record's checkpoint files into dir (created if
// missing). An archive holding anything but the four checkpoint files, each
// once, as regular files, is EINVALID; Unpack does not verify the files
// against the manifest (train.Load does).
func Unpack(rec *palate.ModelRecord, dir string) error {
	bad := func(format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "model %s: archive: "+format, append([]any{rec.Version}, args...)...)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return palate.Errorf(palate.EINTERNAL, "unpack model %s: %w", rec.Version, err)
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f] = true
	}
	seen := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(rec.Archive))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("%v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return bad("%q is not a regular file", hdr.Name)
		}
		if !want[hdr.Name] {
			return bad("unexpected file %q", hdr.Name)
		}
		if seen[hdr.Name] {
			return bad("%q appears twice", hdr.Name)
		}
		seen[hdr.Name] = true
		data, err := io.ReadAll(tr)
		if err != nil {
			return bad("%s: %v", hdr.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, hdr.Name), data, 0o644); err != nil {
			return palate.Errorf(palate.EINTERNAL, "unpack model %s: %w", rec.Version, err)
		}
	}
	for _, f := range files {
		if !seen[f] {
			return bad("no %s", f)
		}
	}
	return nil
}

// Open unpacks the record into a temporary directory, loads and verifies
// the checkpoint, and removes the directory again.
func Open(rec *palate.ModelRecord) (*train.Checkpoint, error) {
	dir, err := os.MkdirTemp("", "palate-model-")
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "unpack model %s: %w", rec.Version, err)
	}
	defer os.RemoveAll(dir)
	if err := Unpack(rec, dir); err != nil {
		return nil, err
	}
	ck, err := train.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", rec.Version, err)
	}
	return ck, nil
}
