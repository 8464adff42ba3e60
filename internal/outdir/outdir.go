// Package outdir checks output directories before a command writes into
// them: what they hold (Entries), so that nothing a command did not make is
// overwritten, and where a symbolic link at the end of the path points
// (Resolve), so that commands which build a directory beside its final
// name and rename it into place write where the link points (keeping the
// link) instead of replacing the link, or failing at the rename when it
// dangles.
package outdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"palate"
)

// maxLinks bounds how many links Resolve follows, as the kernel's ELOOP does.
const maxLinks = 40

// Resolve returns path with every symbolic link at its end followed, a
// dangling one too (to the path it names, which may not exist yet); a
// relative target is read from the link's directory, its own links
// followed. A path that is not a
// link, or does not exist, comes back cleaned and unchanged. Returns
// EINVALID for a loop of links and EINTERNAL when a link cannot be read.
func Resolve(path string) (string, error) {
	path = filepath.Clean(path)
	for range maxLinks {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && st.Mode()&fs.ModeSymlink == 0) {
			return path, nil
		}
		if err != nil {
			return "", palate.Errorf(palate.EINTERNAL, "%w", err) // a PathError names path
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", palate.Errorf(palate.EINTERNAL, "%w", err)
		}
		if !filepath.IsAbs(target) {
			// The kernel reads ".." in target from the real directory of
			// the link, which differs from its path's text when that goes
			// through links itself.
			dir := filepath.Dir(path)
			if real, err := filepath.EvalSymlinks(dir); err == nil {
				dir = real
			}
			target = filepath.Join(dir, target)
		}
		path = filepath.Clean(target)
	}
	return "", palate.Errorf(palate.EINVALID, "%s: more than %d symbolic links in a row (a loop?)", path, maxLinks)
}

// Entries follows a link at dir (Resolve) and lists what the directory
// there holds: its resolved path and entries, no entries when it does not
// exist yet. A file there is ECONFLICT, named with what the directory is
// for ("checkpoint directory", "--out"); other failures are EINTERNAL.
func Entries(dir, what string) (string, []os.DirEntry, error) {
	dir, err := Resolve(dir)
	if err != nil {
		return "", nil, err
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, nil, nil
	case err != nil:
		return "", nil, palate.Errorf(palate.EINTERNAL, "%s %s: %w", what, dir, err)
	case !st.IsDir():
		return "", nil, palate.Errorf(palate.ECONFLICT, "%s %s is a file; choose a directory", what, dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, palate.Errorf(palate.EINTERNAL, "%s %s: %w", what, dir, err)
	}
	return dir, ents, nil
}
