// Package eval measures recommendation quality offline: it splits
// interaction histories into training and test parts, runs recommenders
// (Tailor's model and simple baselines) on the training part, and scores
// their top-k lists against what customers bought afterwards.
//
// It does no I/O; callers read the data (package dataset) and print the
// results.
package eval
