// Package stats holds the statistics of a campaign report: score intervals
// for conversion rates and their difference, the two-proportion z test,
// Welch's t for revenue per member, the relative lift, the sample-ratio
// check, CUPED variance reduction, revenue capping, the minimum detectable
// effect, and BuildReport, which turns per-member observations into a
// JSON-ready Report. docs/campaigns.md explains each formula in plain words.
//
// The package is pure: it imports only the standard library and gonum's
// distributions, does no I/O and reads no clock, so the service can call
// it on a snapshot and tests can pin every figure.
//
// The functions follow IEEE conventions: a quantity the data cannot define
// (a rate of an empty arm, a variance from one member) is NaN, and each
// function documents its degenerate cases. Report is the boundary: every
// NaN or infinity becomes a JSON null there, so a report always encodes.
package stats
