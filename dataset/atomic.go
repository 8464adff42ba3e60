package dataset

import (
	"bufio"
	"os"
	"path/filepath"

	"palate"
)

// pendingFile is a file being written under a temporary name in the
// directory of its final name, so that it appears there complete or not at
// all.
type pendingFile struct {
	final string
	f     *os.File
	w     *bufio.Writer
}

func createPending(final string) (*pendingFile, error) {
	f, err := os.CreateTemp(filepath.Dir(final), filepath.Base(final)+".*.tmp")
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%s: %w", final, err)
	}
	return &pendingFile{final: final, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// commit flushes and syncs the file and renames it into place.
func (p *pendingFile) commit() error {
	err := p.w.Flush()
	if err == nil {
		err = p.f.Sync()
	}
	if err == nil {
		err = p.f.Chmod(0o644) // CreateTemp makes 0600; other tools should read it
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.f.Name(), p.final)
	}
	if err != nil {
		os.Remove(p.f.Name())
		return palate.Errorf(palate.EINTERNAL, "%s: %w", p.final, err)
	}
	return nil
}

// abort closes and removes the temporary file, leaving any old final file.
func (p *pendingFile) abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// writeFileAtomic replaces the file at path with b.
func writeFileAtomic(path string, b []byte) error {
	p, err := createPending(path)
	if err != nil {
		return err
	}
	if _, err := p.w.Write(b); err != nil {
		p.abort()
		return palate.Errorf(palate.EINTERNAL, "%s: %w", path, err)
	}
	return p.commit()
}

// mkdir creates dir and its parents.
func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err) // a PathError names dir
	}
	return nil
}
