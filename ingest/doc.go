// Package ingest brings data made elsewhere into palate's dataset format:
// image embeddings computed by another tool (NumPy .npy or JSON Lines, see
// ImportEmbeddings) and Pick-a-Pic's published parquet shards (see
// ImportPickAPic). Both check everything they read, name the file, line or
// row and column of the first problem, and leave the dataset as it was when
// they fail.
package ingest
