// Package clv fits customer-base models to purchase summaries and turns them
// into per-customer predictions: three purchase models for how many
// purchases a customer will make, whether they are still "alive" and how
// likely they are to make none in the next N days (the churn risk) —
// BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam, Denizel &
// Filiztekin 2007) and Pareto/NBD (Schmittlein, Morrison & Colombo 1987),
// chosen by name through PurchaseModel and FitModel — the Gamma-Gamma model
// (Fader & Hardie, note 025) for how much they spend per purchase, and a
// discounted 12-month lifetime value built from BG/NBD and Gamma-Gamma.
// ConditionalExpectationTable backtests a purchase model against a holdout
// period. Two discriminative churn models answer only whether a customer
// buys in a given horizon, trained on past windows whose outcome is known:
// a logistic regression (ChurnLogit) and gradient-boosted trees blended
// with a purchase model (ChurnBoost, on the trees of FitBoosted).
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
