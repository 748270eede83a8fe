package service

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"tailor/shared/segments"
)

// Partial is one worker's summary of its share of the customers: enough
// for the merge step to compute every global statistic (RFM cut points,
// feature moments, BG/NBD and Gamma-Gamma fits, k-means seeds) without
// seeing a customer again. All of it is integer counts keyed by integers,
// so partials merge exactly and in any order. The zero value is empty.
type Partial struct {
	// Scanned counts customer records read; Customers those scored;
	// NoPurchase and OtherCurrency those left out, by reason.
	Scanned, Customers, NoPurchase, OtherCurrency int64
	// Currencies counts, per currency, the customers with a purchase in it
	// on or before the as-of date (Summary.Currencies); set on the counts
	// that reach the run report, nil in a Summary's per-currency partials.
	Currencies map[string]int64
	// Recency (days since the last purchase), Frequency (purchase days)
	// and Monetary (spend in minor units after segments.QuantizeMoney):
	// value -> customers.
	Recency, Frequency, Monetary map[int64]int64
	// Purchases counts customers per BG/NBD tuple in days.
	Purchases map[PurchaseKey]int64
	// Spend counts customers with a repeat purchase per (x, repeat spend).
	Spend map[SpendKey]int64
	// Sample is the bottom-k sample by SampleHash, sorted; k-means++ seeds
	// and the choice of k come from it.
	Sample []Sampled
	// Inner counts customers per BG/NBD tuple as of the run date minus the
	// churn horizon and whether they bought nothing since: what the model
	// selection scores the purchase models on.
	Inner map[InnerKey]int64
	// Activity is the shop's recent buying over every record scanned; set,
	// like Currencies, only on the counts that reach the run report.
	Activity *segments.Activity
}

// InnerKey is a customer's history as of the run date minus the churn
// horizon (a PurchaseKey) and whether they made no purchase after it.
type InnerKey struct {
	PurchaseKey
	None bool
}

// AddInner records one customer of the model selection.
func (p *Partial) AddInner(c segments.Customer, none bool) {
	p.init()
	p.Inner[InnerKey{PurchaseKey{X: int32(c.PurchaseDays - 1), TX: int32(c.RecencyDays), T: int32(c.AgeDays)}, none}]++
}

// PurchaseKey is a BG/NBD tuple in whole days: X repeat purchase days,
// TX the day of the last purchase and T the as-of date, both counted from
// the first purchase day.
type PurchaseKey struct{ X, TX, T int32 }

// SpendKey is a Gamma-Gamma observation: X repeat purchase days with
// RepeatMinor spent on them in total.
type SpendKey struct {
	X           int32
	RepeatMinor int64
}

// Sampled is one customer of the k-means seeding sample: its RFM values
// (monetary quantised), which determine its clustering features.
type Sampled struct {
	Hash       uint64 `json:"h"`
	CustomerID string `json:"id"`
	Recency    int64  `json:"r"`
	Frequency  int64  `json:"f"`
	Monetary   int64  `json:"m"`
}

// SampleHash orders customers for the sample: a fixed hash of the id, so
// the sample is the same set whoever scans whom, and stays stable between
// nightly runs.
func SampleHash(customerID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(customerID))
	return h.Sum64()
}

func sampleLess(a, b Sampled) int {
	switch {
	case a.Hash < b.Hash:
		return -1
	case a.Hash > b.Hash:
		return 1
	}
	return strings.Compare(a.CustomerID, b.CustomerID)
}

func rfmInput(c segments.Customer) segments.RFMInput {
	return segments.RFMInput{CustomerID: c.CustomerID, RecencyDays: c.AgeDays - c.RecencyDays, Frequency: c.PurchaseDays, Monetary: c.TotalSpend}
}

func (p *Partial) init() {
	if p.Recency == nil {
		p.Recency, p.Frequency, p.Monetary = map[int64]int64{}, map[int64]int64{}, map[int64]int64{}
		p.Purchases, p.Spend = map[PurchaseKey]int64{}, map[SpendKey]int64{}
	}
	if p.Inner == nil {
		p.Inner = map[InnerKey]int64{}
	}
}

// Add records one scored customer. sampleSize bounds the sample.
func (p *Partial) Add(c segments.Customer, sampleSize int) {
	p.init()
	p.Customers++
	in := rfmInput(c)
	p.Recency[int64(in.RecencyDays)]++
	p.Frequency[int64(in.Frequency)]++
	m := segments.QuantizeMoney(in.Monetary)
	p.Monetary[m]++
	x := int32(c.PurchaseDays - 1)
	p.Purchases[PurchaseKey{X: x, TX: int32(c.RecencyDays), T: int32(c.AgeDays)}]++
	if x > 0 && c.RepeatSpend > 0 {
		p.Spend[SpendKey{X: x, RepeatMinor: c.RepeatSpend}]++
	}
	s := Sampled{Hash: SampleHash(c.CustomerID), CustomerID: c.CustomerID, Recency: int64(in.RecencyDays), Frequency: int64(in.Frequency), Monetary: m}
	p.Sample = addSample(p.Sample, s, sampleSize)
}

// addSample keeps the size smallest entries by (hash, id), sorted.
func addSample(sample []Sampled, s Sampled, size int) []Sampled {
	if len(sample) >= size && sampleLess(s, sample[len(sample)-1]) >= 0 {
		return sample
	}
	i, _ := slices.BinarySearchFunc(sample, s, sampleLess)
	sample = slices.Insert(sample, i, s)
	if len(sample) > size {
		sample = sample[:size]
	}
	return sample
}

// Merge adds o into p. sampleSize bounds the merged sample.
func (p *Partial) Merge(o *Partial, sampleSize int) {
	p.init()
	p.Scanned += o.Scanned
	p.Customers += o.Customers
	p.NoPurchase += o.NoPurchase
	p.OtherCurrency += o.OtherCurrency
	for cur, n := range o.Currencies {
		if p.Currencies == nil {
			p.Currencies = map[string]int64{}
		}
		p.Currencies[cur] += n
	}
	if o.Activity != nil {
		if p.Activity == nil {
			p.Activity = &segments.Activity{}
		}
		p.Activity.Merge(o.Activity)
	}
	for _, pair := range [][2]map[int64]int64{{p.Recency, o.Recency}, {p.Frequency, o.Frequency}, {p.Monetary, o.Monetary}} {
		for k, v := range pair[1] {
			pair[0][k] += v
		}
	}
	for k, v := range o.Purchases {
		p.Purchases[k] += v
	}
	for k, v := range o.Spend {
		p.Spend[k] += v
	}
	for k, v := range o.Inner {
		p.Inner[k] += v
	}
	merged := slices.Concat(p.Sample, o.Sample)
	slices.SortFunc(merged, sampleLess)
	merged = slices.CompactFunc(merged, func(a, b Sampled) bool { return a.CustomerID == b.CustomerID })
	if len(merged) > sampleSize {
		merged = merged[:sampleSize]
	}
	p.Sample = merged
}

// Summary is the summarise worker's output and the merge step's input:
// the counts of every customer record read, the customers per currency,
// and a Partial per currency summarised. Like a Partial it merges exactly
// and in any order; the zero value is empty.
//
// With a configured currency only that currency's Partial is kept. With
// AutoCurrency the run's currency is the dominant one, which only the
// merged counts of every worker can tell, so each worker summarises every
// currency it meets and the merge step keeps the dominant currency's
// Partial (Choose, Counts). That costs no second read of the table: a
// customer who buys in one currency (nearly all) is summarised once, as in
// a run of a configured currency, and only customers who bought in
// several are summarised once per currency.
type Summary struct {
	// Scanned counts customer records read; NoPurchase those without a
	// purchase in any currency on or before the as-of date.
	Scanned    int64 `json:"scanned"`
	NoPurchase int64 `json:"no_purchase"`
	// Currencies counts, per currency, the customers with a purchase in it
	// on or before the as-of date; a customer who bought in two currencies
	// counts in both.
	Currencies map[string]int64 `json:"currencies"`
	// Partials summarises the customers of each currency summarised.
	Partials map[string]*Partial `json:"partials"`
	// Activity is the recent buying of every record scanned.
	Activity *segments.Activity `json:"activity,omitempty"`
}

// Merge adds o into s. sampleSize bounds the merged samples.
func (s *Summary) Merge(o *Summary, sampleSize int) {
	s.init()
	s.Scanned += o.Scanned
	s.NoPurchase += o.NoPurchase
	for cur, n := range o.Currencies {
		s.Currencies[cur] += n
	}
	for cur, p := range o.Partials {
		s.partial(cur).Merge(p, sampleSize)
	}
	if o.Activity != nil {
		if s.Activity == nil {
			s.Activity = &segments.Activity{}
		}
		s.Activity.Merge(o.Activity)
	}
}

func (s *Summary) init() {
	if s.Currencies == nil {
		s.Currencies, s.Partials = map[string]int64{}, map[string]*Partial{}
	}
}

func (s *Summary) partial(cur string) *Partial {
	p := s.Partials[cur]
	if p == nil {
		p = &Partial{}
		p.init()
		s.Partials[cur] = p
	}
	return p
}

// Choose picks the currency a run scores from the merged summary: the
// configured one, or with AutoCurrency the dominant one, the currency with
// the most customers (of currencies with as many, the first in
// alphabetical order; "" when nobody bought). choice is
// segments.CurrencyConfigured or segments.CurrencyDominant.
func (s *Summary) Choose(configured string) (currency, choice string) {
	if configured != segments.AutoCurrency {
		return configured, segments.CurrencyConfigured
	}
	var best int64
	for _, cur := range slices.Sorted(maps.Keys(s.Currencies)) {
		if n := s.Currencies[cur]; n > best {
			currency, best = cur, n
		}
	}
	return currency, segments.CurrencyDominant
}

// Counts is the merged Partial of currency with the run's counts: records
// scanned, customers scored (those who bought in currency), and those left
// out for having no purchase or none in currency; with the customers per
// currency.
func (s *Summary) Counts(currency string) *Partial {
	p := &Partial{}
	if q := s.Partials[currency]; q != nil {
		*p = *q
	}
	p.init()
	p.Scanned, p.NoPurchase = s.Scanned, s.NoPurchase
	p.OtherCurrency = s.Scanned - s.NoPurchase - p.Customers
	p.Currencies = maps.Clone(s.Currencies)
	if p.Currencies == nil {
		p.Currencies = map[string]int64{}
	}
	p.Activity = s.Activity
	return p
}

// InCurrency is plan with its currency chosen: the plan the steps after
// summarise run on, so the scores carry the currency scored.
func InCurrency(plan Plan, currency string) Plan {
	plan.Config.Currency = currency
	return plan
}

// Summarise is the summarise worker: it derives each customer's model
// input in every currency the customer bought in on or before the as-of
// date, counts the customers per currency, and folds the inputs of the
// currencies summarised (plan's currency, or every currency with
// AutoCurrency) into the Summary. It also returns those inputs per
// currency, which the local runner keeps in memory for the later steps.
func Summarise(records []segments.CustomerDays, plan Plan) (*Summary, map[string][]segments.Customer, error) {
	s := &Summary{}
	s.init()
	cur := plan.Config.Currency
	auto := cur == segments.AutoCurrency
	kept := map[string][]segments.Customer{}
	innerAsOf := plan.AsOf.AddDate(0, 0, -plan.Config.ChurnHorizonDays)
	for _, r := range records {
		all, err := deriveEach(r, plan.AsOf)
		if err != nil {
			return nil, nil, err
		}
		// The same customer a churn horizon earlier, for the model
		// selection: none when they bought nothing since.
		inner, err := deriveEach(r, innerAsOf)
		if err != nil {
			return nil, nil, err
		}
		s.Scanned++
		if s.Activity == nil {
			s.Activity = &segments.Activity{}
		}
		s.Activity.AddCustomer(r.Days, r.EventDays, plan.AsOf)
		if len(all) == 0 {
			s.NoPurchase++
			continue
		}
		for _, d := range all {
			s.Currencies[d.currency]++
			if !auto && d.currency != cur {
				continue
			}
			s.partial(d.currency).Add(d.customer, plan.Config.SampleSize)
			for _, e := range inner {
				if e.currency == d.currency {
					s.partial(d.currency).AddInner(e.customer, e.customer.PurchaseDays == d.customer.PurchaseDays)
				}
			}
			kept[d.currency] = append(kept[d.currency], d.customer)
		}
	}
	return s, kept, nil
}

// partialWire is the JSON form of a Partial: maps with struct keys become
// sorted rows, so equal partials encode to equal bytes.
type partialWire struct {
	Scanned       int64              `json:"scanned"`
	Customers     int64              `json:"customers"`
	NoPurchase    int64              `json:"no_purchase"`
	OtherCurrency int64              `json:"other_currency"`
	Currencies    map[string]int64   `json:"currencies,omitempty"`
	Activity      *segments.Activity `json:"activity,omitempty"`
	Recency       [][2]int64         `json:"recency"`
	Frequency     [][2]int64         `json:"frequency"`
	Monetary      [][2]int64         `json:"monetary"`
	Purchases     [][4]int64         `json:"purchases"`
	Inner         [][5]int64         `json:"inner,omitempty"`
	Spend         [][3]int64         `json:"spend"`
	Sample        []Sampled          `json:"sample"`
}

func histRows(h map[int64]int64) [][2]int64 {
	out := make([][2]int64, 0, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		out = append(out, [2]int64{k, h[k]})
	}
	return out
}

// MarshalJSON encodes p deterministically.
func (p *Partial) MarshalJSON() ([]byte, error) {
	w := partialWire{Scanned: p.Scanned, Customers: p.Customers, NoPurchase: p.NoPurchase, OtherCurrency: p.OtherCurrency, Currencies: p.Currencies, Activity: p.Activity,
		Recency: histRows(p.Recency), Frequency: histRows(p.Frequency), Monetary: histRows(p.Monetary), Sample: p.Sample}
	for k, n := range p.Purchases {
		w.Purchases = append(w.Purchases, [4]int64{int64(k.X), int64(k.TX), int64(k.T), n})
	}
	slices.SortFunc(w.Purchases, func(a, b [4]int64) int { return slices.Compare(a[:], b[:]) })
	for k, n := range p.Spend {
		w.Spend = append(w.Spend, [3]int64{int64(k.X), k.RepeatMinor, n})
	}
	slices.SortFunc(w.Spend, func(a, b [3]int64) int { return slices.Compare(a[:], b[:]) })
	for k, n := range p.Inner {
		none := int64(0)
		if k.None {
			none = 1
		}
		w.Inner = append(w.Inner, [5]int64{int64(k.X), int64(k.TX), int64(k.T), none, n})
	}
	slices.SortFunc(w.Inner, func(a, b [5]int64) int { return slices.Compare(a[:], b[:]) })
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (p *Partial) UnmarshalJSON(b []byte) error {
	var w partialWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Partial{Scanned: w.Scanned, Customers: w.Customers, NoPurchase: w.NoPurchase, OtherCurrency: w.OtherCurrency,
		Currencies: w.Currencies, Activity: w.Activity, Sample: w.Sample}
	p.init()
	for _, pair := range []struct {
		dst  map[int64]int64
		rows [][2]int64
	}{{p.Recency, w.Recency}, {p.Frequency, w.Frequency}, {p.Monetary, w.Monetary}} {
		for _, r := range pair.rows {
			pair.dst[r[0]] += r[1]
		}
	}
	for _, r := range w.Purchases {
		p.Purchases[PurchaseKey{X: int32(r[0]), TX: int32(r[1]), T: int32(r[2])}] += r[3]
	}
	for _, r := range w.Spend {
		p.Spend[SpendKey{X: int32(r[0]), RepeatMinor: r[1]}] += r[2]
	}
	for _, r := range w.Inner {
		p.Inner[InnerKey{PurchaseKey{X: int32(r[0]), TX: int32(r[1]), T: int32(r[2])}, r[3] == 1}] += r[4]
	}
	return nil
}
