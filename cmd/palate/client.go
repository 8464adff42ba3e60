package main

import (
	"net/url"
	"os"

	"palate/api"
)

// newClient returns a client of the server at the --server URL, with the
// key from PALATE_KEY, else PALATE_READ_KEY, else PALATE_WRITE_KEY. A value
// that is not an http(s) URL with a host is a usage error, not a server
// that cannot be reached.
func newClient(server string) (*api.Client, error) {
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server %q: want a URL such as http://127.0.0.1:8080", server)
	}
	return keyedClient(server), nil
}

// keyedClient is newClient for a URL known to be good (one a server of
// this process printed).
func keyedClient(server string) *api.Client {
	key := os.Getenv("PALATE_KEY")
	for _, name := range []string{"PALATE_READ_KEY", "PALATE_WRITE_KEY"} {
		if key == "" {
			key = os.Getenv(name)
		}
	}
	return &api.Client{BaseURL: server, Key: key}
}
