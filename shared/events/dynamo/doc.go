// Package dynamo is the DynamoDB adapter of the events feature: Events
// implements the ingest service's ports (Append, Seen, Link, Resolve,
// Categories) and the popularity counters' reader (DayCounts); History
// lists a customer's history for the customers API. It imports the events
// domain and platform packages only (plus the customers domain, whose
// aggregates ingestion keeps on customer records); the in-memory twin is
// package memory, and package contract holds the suite both pass.
//
// Access patterns, then keys (docs/ingestion.md has the full layout):
//
//	store an event once, with its history and counters   Events     pk=E#<event_id> sk=EVENT (conditional Put)
//	                                                      Events     pk=H#<owner> sk=<time>#<event_id>
//	                                                      Events     pk=P#<day>#<shard> sk=<item_id> (ADD)
//	fold an owner's aggregates under a version            Customers  pk=C#<customer_id> | N#<anonymous_id> sk=PROFILE
//	count a customer's order once                         Customers  pk=O#<customer_id> sk=<order_id> (conditional Put, BatchGetItem, Query)
//	link a visitor to a customer once                     Customers  pk=A#<anonymous_id> sk=ALIAS, pk=L#<customer_id> sk=<anonymous_id>
//	look up items' categories                             Items      pk=I#<item_id> sk=ITEM (BatchGetItem)
//	list a customer's history, newest first               Events     Query pk=H#C#<customer_id>, descending
//	read a day's popularity                               Events     Query pk=P#<day>#0..7
package dynamo
