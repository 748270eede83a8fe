// Package dataset reads public data sets and customer exports into plain Go
// values. It does no network I/O.
package dataset
