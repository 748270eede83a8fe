// Package dynamo is the DynamoDB adapter of the events feature: Events
// implements the ingest service's ports (Append, Link, Resolve,
// Categories); History lists a customer's history for the customers
// API. It imports the events domain and platform packages only (plus the customers domain, whose
// aggregates ingestion keeps on customer records); the in-memory twin is
// package memory, and package contract holds the suite both pass.
//
// Access patterns, then keys (docs/ingestion.md has the full layout):
//
//	store an owner's new events with their aggregates     Customers  pk=C#<customer_id> | N#<anonymous_id> sk=PROFILE (Update on agg_version)
//	  in one transaction, as history pages                Events     pk=H#<owner> sk=<newest time>#<first event_id> (conditional Put)
//	find copies of events no newer than the owner's       Events     Query pk=H#<owner> sk BETWEEN <time> AND <time + 24 h>
//	  newest stored one on its history pages                           (consistent)
//	count a customer's order once                         Customers  pk=O#<customer_id> sk=<order_id> (conditional Put, BatchGetItem, Query)
//	link a visitor to a customer once                     Customers  pk=A#<anonymous_id> sk=ALIAS, pk=L#<customer_id> sk=<anonymous_id>
//	look up items' categories                             Items      pk=I#<item_id> sk=ITEM (BatchGetItem)
//	list a customer's history, newest first               Events     Query pk=H#C#<customer_id>, descending
package dynamo
