// Package clv fits customer-base models to purchase summaries and turns them
// into per-customer predictions: the BG/NBD model (Fader, Hardie & Lee 2005)
// for how many purchases a customer will make and whether they are still
// "alive", the Gamma-Gamma model (Fader & Hardie, note 025) for how much they
// spend per purchase, and a discounted 12-month lifetime value built from
// both.
//
// The package does no I/O. Fitting works on sufficient statistics
// (Summary, SpendSummary) that are sums over customers, so workers can each
// summarise a share of the customer base and a coordinator merges the
// summaries and fits once; the fit is identical to fitting on the union.
//
// Time is in whatever unit the caller summarised in (days or weeks); the
// parameters alpha and the prediction horizons share that unit. Money is in
// whatever currency unit the spend summary used.
package clv
