// Package recommendations builds and serves product recommendations:
// item-to-item similarity trained from customers' interaction histories,
// popularity lists by time window and category, and a scorer that turns a
// customer's recent activity into a ranked, filtered, diversified and
// explained list. It also names what the request side and the training job
// read and write (Shopper, Lists, Popular, Run), so that their ports and
// the adapters behind them share one vocabulary.
//
// Training and scoring are pure functions of their inputs: the package does
// no I/O, keeps no global state and imports no AWS package. Callers load the
// data (neighbour lists, item attributes, popularity lists) and store the
// results.
package recommendations
