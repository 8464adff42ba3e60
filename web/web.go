// Package web holds palate's web page: plain HTML, CSS and JavaScript,
// embedded in the binary and served by package server at /. The page is a
// client of the public /v1 API like any other.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the page's files: index.html at the root, the rest beside it.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}
