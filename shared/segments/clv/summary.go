package clv

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrInvalid reports inputs outside a model's domain: negative counts,
// recency after the end of the period, non-positive parameters.
var ErrInvalid = errors.New("clv: invalid input")

// ErrNoData reports a fit asked to run on an empty summary.
var ErrNoData = errors.New("clv: no customers to fit")

// ErrNotConverged reports an optimiser or series that did not converge.
var ErrNotConverged = errors.New("clv: did not converge")

// Customer is one customer's purchase history in BG/NBD form: X repeat
// purchases (purchase occasions after the first), TX the time of the last
// purchase and T the time of the end of the period, both measured from the
// first purchase in the caller's time unit.
type Customer struct {
	X  int
	TX float64
	T  float64
}

// Validate reports whether c lies in the model's domain. A customer with no
// repeat purchase must have TX = 0, and 0 <= TX <= T.
func (c Customer) Validate() error {
	switch {
	case c.X < 0:
		return fmt.Errorf("%w: x = %d is negative", ErrInvalid, c.X)
	case !(c.T >= 0) || math.IsInf(c.T, 0):
		return fmt.Errorf("%w: T = %v", ErrInvalid, c.T)
	case !(c.TX >= 0) || c.TX > c.T:
		return fmt.Errorf("%w: t_x = %v outside [0, T=%v]", ErrInvalid, c.TX, c.T)
	case c.X == 0 && c.TX != 0:
		return fmt.Errorf("%w: t_x = %v with x = 0", ErrInvalid, c.TX)
	}
	return nil
}

// Summary is the sufficient statistic of the BG/NBD likelihood: how many
// customers share each (x, t_x, T). The log-likelihood is a sum over
// customers, so a Summary per worker merged by addition gives exactly the
// likelihood of the whole base, and cohorts summarised in whole days or
// weeks collapse to far fewer tuples than customers.
// The zero value is empty and ready to use.
type Summary struct {
	multiset[Customer]
}

// multiset counts weighted keys; merging two is adding their counts, which
// is what makes per-worker summaries combine exactly in any order.
type multiset[K comparable] struct {
	counts map[K]float64
	n      float64
}

func (m *multiset[K]) add(k K, w float64) {
	if m.counts == nil {
		m.counts = make(map[K]float64)
	}
	m.counts[k] += w
	m.n += w
}

func (m *multiset[K]) merge(o *multiset[K]) {
	for k, w := range o.counts {
		m.add(k, w)
	}
}

// Customers returns the number of customers recorded.
func (m *multiset[K]) Customers() float64 { return m.n }

// Add records one customer. Invalid customers are rejected so a bad record
// cannot silently bias the fit.
func (s *Summary) Add(c Customer) error {
	return s.AddN(c, 1)
}

// AddN records n identical customers; n may be fractional for weighted data.
func (s *Summary) AddN(c Customer, n float64) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !(n > 0) || math.IsInf(n, 0) {
		return fmt.Errorf("%w: count %v", ErrInvalid, n)
	}
	s.add(c, n)
	return nil
}

// Merge adds every customer of o into s. Merging is commutative and
// associative, so the order in which workers report does not matter.
func (s *Summary) Merge(o *Summary) {
	if o == nil {
		return
	}
	s.merge(&o.multiset)
}

// Tuples returns the number of distinct (x, t_x, T) tuples: the size of the
// message a worker sends and the work per likelihood evaluation.
func (s *Summary) Tuples() int { return len(s.counts) }

// tupleGroup holds the tuples sharing one x, laid out for the likelihood:
// every term that depends on x alone is computed once per group.
type tupleGroup struct {
	x      float64
	tx, t  []float64
	weight []float64
}

// groups returns the tuples grouped by x in a fixed order, so a fit's
// floating-point sums, and hence its result, do not depend on map order.
func (s *Summary) groups() []tupleGroup {
	keys := make([]Customer, 0, len(s.counts))
	for c := range s.counts {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b Customer) int {
		if a.X != b.X {
			return a.X - b.X
		}
		if c := cmpFloat(a.T, b.T); c != 0 {
			return c
		}
		return cmpFloat(a.TX, b.TX)
	})
	var out []tupleGroup
	for _, k := range keys {
		if len(out) == 0 || out[len(out)-1].x != float64(k.X) {
			out = append(out, tupleGroup{x: float64(k.X)})
		}
		g := &out[len(out)-1]
		g.tx = append(g.tx, k.TX)
		g.t = append(g.t, k.T)
		g.weight = append(g.weight, s.counts[k])
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SpendSummary is the sufficient statistic of the Gamma-Gamma likelihood:
// how many customers share each (x, mean repeat spend). Only customers with
// at least one repeat purchase and positive mean spend carry information;
// Add skips the others and says so. Mergeable like Summary.
// The zero value is empty and ready to use.
type SpendSummary struct {
	multiset[spendKey]
}

type spendKey struct {
	x    int
	mean float64
}

// Add records a customer with x repeat purchases whose mean spend per
// repeat purchase is mean. It reports whether the customer was used:
// customers with x = 0 or mean <= 0 are outside the Gamma-Gamma model.
func (s *SpendSummary) Add(x int, mean float64) (bool, error) {
	if x < 0 || math.IsNaN(mean) || math.IsInf(mean, 0) {
		return false, fmt.Errorf("%w: x = %d, mean spend %v", ErrInvalid, x, mean)
	}
	if x == 0 || mean <= 0 {
		return false, nil
	}
	s.add(spendKey{x, mean}, 1)
	return true, nil
}

// Merge adds every customer of o into s.
func (s *SpendSummary) Merge(o *SpendSummary) {
	if o == nil {
		return
	}
	s.merge(&o.multiset)
}

type spendRow struct {
	x, mean, weight float64
}

func (s *SpendSummary) rows() []spendRow {
	out := make([]spendRow, 0, len(s.counts))
	for k, n := range s.counts {
		out = append(out, spendRow{float64(k.x), k.mean, n})
	}
	slices.SortFunc(out, func(a, b spendRow) int {
		if c := cmpFloat(a.x, b.x); c != 0 {
			return c
		}
		return cmpFloat(a.mean, b.mean)
	})
	return out
}
