// Package storekit holds what both storage backends (sqlite, postgres) share
// and that is not SQL: checking and normalising records before a write,
// finding repeats inside one batch, the float32 blob encoding, and the
// subscriber hub that fans events out. Backends never import each other;
// they import this.
package storekit
