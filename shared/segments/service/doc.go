// Package service is the application logic of segmentation: Job, the
// nightly score job, turns customer purchase aggregates into RFM segments,
// behavioural clusters, BG/NBD churn scores and Gamma-Gamma lifetime
// values, written back to each customer, with a run report and
// per-segment reports; Query answers the segments API from what the job
// stored.
//
// The job is cut into worker steps and merge steps so that it runs the
// same way on one machine and fanned out (docs/segmentation.md):
//
//	summarise (worker, per scan segment)  -> Summary: customers per currency and, per
//	                                         currency summarised, a Partial: exact
//	                                         histograms, BG/NBD and spend tuple
//	                                         counts, a bottom-k sample
//	fit       (merge)                     -> the run's currency, then Model: cut points,
//	                                         feature moments, model fits, k and seed
//	                                         centroids from the sample
//	assign    (worker, per k-means step)  -> Step: fixed-point sums per cluster
//	update    (merge)                     -> new centroids, or done
//	score     (worker)                    -> scores written back, Tally
//	finish    (merge)                     -> Report and segment reports
//
// Every partial merges by integer addition (or a deterministic union), so
// any split of the customers into workers gives bit-for-bit the same model
// and scores. The pure steps (Derive, Summarise, Fit, Assign, Update,
// Score, Finish) do no I/O; Job drives them against the small storage
// interfaces declared here (Customers, Runs), and Query reads through two
// more (RunReader, MemberLister). Packages dynamo and memory implement
// all four.
package service
