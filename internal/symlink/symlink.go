// Package symlink follows a symbolic link at the end of an output path, so
// that commands which build a directory beside its final name and rename it
// into place write where a link points (keeping the link) instead of
// replacing the link, or failing at the rename when it dangles.
package symlink

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
