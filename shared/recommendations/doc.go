// Package reco builds and serves product recommendations: item-to-item
// similarity trained from customers' interaction histories, popularity
// lists by time window and category, and a scorer that turns a customer's
// recent activity into a ranked, filtered, diversified and explained list.
//
// Training and scoring are pure functions of their inputs: the package does
// no I/O, keeps no global state and imports no AWS package. Callers load the
// data (neighbour lists, item attributes, popularity lists) and store the
// results.
package recommendations
