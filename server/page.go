package server

import (
	"net/http"
	"strings"

	"palate/web"
)

// pageHandler serves the web page: index.html at / and its assets under
// /ui/. The page calls the /v1 API like any client.
func (s *Server) pageHandler() http.Handler {
	files := web.FS()
	assets := http.StripPrefix("/ui/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == "/" {
			http.ServeFileFS(w, r, files, "index.html")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
}
