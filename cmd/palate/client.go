package main

import (
	"os"

	"palate/api"
)

// newClient returns a client of the server at url, with the key from
// PALATE_KEY, else PALATE_READ_KEY, else PALATE_WRITE_KEY.
func newClient(url string) *api.Client {
	key := os.Getenv("PALATE_KEY")
	for _, name := range []string{"PALATE_READ_KEY", "PALATE_WRITE_KEY"} {
		if key == "" {
			key = os.Getenv(name)
		}
	}
	return &api.Client{BaseURL: url, Key: key}
}
