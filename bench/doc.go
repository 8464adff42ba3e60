// Package bench holds the measures and pictures that compare palate with its
// baselines: pairwise accuracy with person-level bootstrap intervals, gap
// closure, AUC, clustering of user descriptors against the true taste groups
// (k-means, adjusted Rand index, NMI, precision@k), a 2-D projection, and
// standalone SVG plots. It imports only the standard library and the
// GoMLX-free history package, so every predictor can be measured by it; the
// runner that trains and judges every predictor and fills the report is
// package bench/suite (it imports baseline, whose tests import bench).
//
// Every random choice (bootstrap resamples, k-means starts) takes a seed, so
// the same inputs give the same numbers on every machine.
package bench
