package customers

// Scores is what the nightly segmentation decided about a customer, kept
// on the customer record next to the aggregates. Only the segment job
// writes it, and only these attributes: never the profile or the
// aggregates. Every field is derived from purchase aggregates; nothing in
// it is personal data.
type Scores struct {
	// RunID names the run that wrote the scores (see segments/service.RunID); a
	// re-run of the same as-of date writes the same run id and values.
	RunID string `json:"run_id" dynamodbav:"run_id"`
	// AsOf is the run date, YYYY-MM-DD: purchases before it were counted.
	AsOf string `json:"as_of" dynamodbav:"as_of"`
	// Currency is the one currency the scores were computed in.
	Currency string `json:"currency" dynamodbav:"currency"`
	// R, F and M are the RFM quintile scores 1..5 (5 best); RFMCell joins
	// them ("545").
	R       int    `json:"r" dynamodbav:"r"`
	F       int    `json:"f" dynamodbav:"f"`
	M       int    `json:"m" dynamodbav:"m"`
	RFMCell string `json:"rfm_cell" dynamodbav:"rfm_cell"`
	// Segment is the named RFM segment's slug ("champions", "at-risk").
	Segment string `json:"segment" dynamodbav:"segment"`
	// Cluster is the behavioural cluster, 0..k-1, of the run's k-means.
	Cluster int `json:"cluster" dynamodbav:"cluster"`
	// PAlive is the purchase model's probability that the customer is
	// still active.
	PAlive float64 `json:"p_alive" dynamodbav:"p_alive"`
	// ChurnProbability is the probability of no purchase in the run's
	// churn horizon (90 days by default) given the history: what ChurnRisk
	// bands.
	ChurnProbability float64 `json:"churn_probability" dynamodbav:"p_churn"`
	// ExpectedPurchases30d and 90d are the purchase model's expected
	// purchase days in the next 30 and 90 days.
	ExpectedPurchases30d float64 `json:"expected_purchases_30d" dynamodbav:"exp_30d"`
	ExpectedPurchases90d float64 `json:"expected_purchases_90d" dynamodbav:"exp_90d"`
	// CLV12mMinor is the discounted 12-month lifetime value in minor units
	// of Currency, rounded to the nearest unit.
	CLV12mMinor int64 `json:"clv_12m_minor" dynamodbav:"clv_12m"`
	// ChurnRisk is the band of ChurnProbability: low (< 0.25), medium
	// (< 0.5), high (< 0.75) or very_high.
	ChurnRisk string `json:"churn_risk" dynamodbav:"churn_risk"`
}
