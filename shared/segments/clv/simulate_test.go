package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// simCustomer is one customer simulated from a model: their history over
// (0, T], whether they were alive at T, and what they did in (T, T+h].
type simCustomer struct {
	c       Customer
	alive   bool
	holdout int
}

// simulator draws one customer's purchase times (after the first, at 0)
// over (0, end] and the time they died (+Inf if not by end).
type simulator func(rng *rand.Rand, end float64) (purchases []float64, death float64)

// simulateBG simulates BG/NBD, or MBG/NBD when tossAtZero: a Poisson
// process of rate λ ~ Gamma(r, α), and after each purchase (and, for
// MBG/NBD, at time 0) the customer drops out with probability p ~ Beta(a, b).
func simulateBG(r, alpha, a, b float64, tossAtZero bool, src rand.Source) simulator {
	lambdas := distuv.Gamma{Alpha: r, Beta: alpha, Src: src}
	ps := distuv.Beta{Alpha: a, Beta: b, Src: src}
	return func(rng *rand.Rand, end float64) ([]float64, float64) {
		lambda, p := lambdas.Rand(), ps.Rand()
		if tossAtZero && rng.Float64() < p {
			return nil, 0
		}
		var out []float64
		for t := rng.ExpFloat64() / lambda; t <= end; t += rng.ExpFloat64() / lambda {
			out = append(out, t)
			if rng.Float64() < p {
				return out, t
			}
		}
		return out, math.Inf(1)
	}
}

// simulatePareto simulates Pareto/NBD: a Poisson process of rate
// λ ~ Gamma(r, α) until an exponential death with rate μ ~ Gamma(s, β).
func simulatePareto(m ParetoNBD, src rand.Source) simulator {
	lambdas := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: src}
	mus := distuv.Gamma{Alpha: m.S, Beta: m.Beta, Src: src}
	return func(rng *rand.Rand, end float64) ([]float64, float64) {
		lambda, mu := lambdas.Rand(), mus.Rand()
		death := rng.ExpFloat64() / mu
		var out []float64
		for t := rng.ExpFloat64() / lambda; t <= end && t < death; t += rng.ExpFloat64() / lambda {
			out = append(out, t)
		}
		if death > end {
			death = math.Inf(1)
		}
		return out, death
	}
}

// simulate draws n customers with T spread over a year of cohorts and
// splits each one's purchases at T.
func simulate(sim simulator, rng *rand.Rand, n int, h float64) []simCustomer {
	ages := []float64{4, 13, 26, 39, 52}
	out := make([]simCustomer, n)
	for i := range out {
		T := ages[i%len(ages)]
		purchases, death := sim(rng, T+h)
		var sc simCustomer
		sc.c.T = T
		sc.alive = death > T
		for _, t := range purchases {
			if t <= T {
				sc.c.X++
				sc.c.TX = t
			} else {
				sc.holdout++
			}
		}
		out[i] = sc
	}
	return out
}

// bias is the mean of observed minus predicted over a group, with its
// standard error.
type bias struct {
	n, sum, sumSq float64
}

func (b *bias) add(observed, predicted float64) {
	d := observed - predicted
	b.n++
	b.sum += d
	b.sumSq += d * d
}

func (b bias) mean() float64 { return b.sum / b.n }

func (b bias) se() float64 {
	m := b.mean()
	return math.Sqrt((b.sumSq/b.n - m*m) / b.n)
}

// TestPredictionsMatchSimulation checks P(alive), the conditional
// expectation and P(no purchase) of each model against customers simulated
// from that model. Whatever the history, the prediction is the conditional
// mean of what is observed, so within any group of customers defined by
// their history alone, observed minus predicted must average zero; the
// groups separate customers whose P(alive) is high from those it is low,
// where a wrong P(alive) or a wrong survival term would show.
//
// Two wrong formulas for P(no purchase) must fail the same test, which
// shows it has the power to see such mistakes: one that forgets the
// customer may already be dead, and, for Pareto/NBD, one that forgets a
// customer alive at T may die within the window before buying.
func TestPredictionsMatchSimulation(t *testing.T) {
	const n = 150_000
	h := float64(ChurnHorizonDays) / 7 // weeks, as the CDNOW fits
	bg := published
	mbg := MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}
	pnbd := ParetoNBD{R: 0.553, Alpha: 10.578, S: 0.606, Beta: 11.669}
	// A wrong P(no purchase) from the customer, P(alive) and the right value.
	type wrong func(c Customer, pAlive, right float64) float64
	forgetsDead := func(c Customer, pAlive, right float64) float64 { return right - (1 - pAlive) }
	immortalInWindow := func(c Customer, pAlive, right float64) float64 {
		return 1 - pAlive*(1-math.Pow((pnbd.Alpha+c.T)/(pnbd.Alpha+c.T+h), pnbd.R+float64(c.X)))
	}
	models := []struct {
		m     PurchaseModel
		sim   func(rand.Source) simulator
		wrong map[string]wrong
	}{
		{bg, func(s rand.Source) simulator { return simulateBG(bg.R, bg.Alpha, bg.A, bg.B, false, s) },
			map[string]wrong{"forgets dead": forgetsDead}},
		{mbg, func(s rand.Source) simulator { return simulateBG(mbg.R, mbg.Alpha, mbg.A, mbg.B, true, s) },
			map[string]wrong{"forgets dead": forgetsDead}},
		{pnbd, func(s rand.Source) simulator { return simulatePareto(pnbd, s) },
			map[string]wrong{"forgets dead": forgetsDead, "immortal in window": immortalInWindow}},
	}
	groups := []struct {
		name string
		in   func(Customer) bool
	}{
		{"x=0", func(c Customer) bool { return c.X == 0 }},
		{"x>=1 recent", func(c Customer) bool { return c.X >= 1 && c.T-c.TX <= 8 }},
		{"x>=1 lapsed", func(c Customer) bool { return c.X >= 1 && c.T-c.TX > 8 }},
	}
	for i, tt := range models {
		t.Run(tt.m.Name(), func(t *testing.T) {
			src := rand.NewPCG(2024, uint64(i))
			customers := simulate(tt.sim(src), rand.New(src), n, h)
			wrongDetected := make(map[string]bool)
			for _, g := range groups {
				var alive, expected, none bias
				wrongs := make(map[string]*bias)
				for name := range tt.wrong {
					wrongs[name] = &bias{}
				}
				for _, sc := range customers {
					if !g.in(sc.c) {
						continue
					}
					pa, err1 := tt.m.PAlive(sc.c)
					e, err2 := tt.m.ExpectedPurchases(sc.c, h)
					p0, err3 := tt.m.PNoPurchase(sc.c, h)
					if err1 != nil || err2 != nil || err3 != nil {
						t.Fatalf("%+v: %v %v %v", sc.c, err1, err2, err3)
					}
					noPurchase := b2f(sc.holdout == 0)
					alive.add(b2f(sc.alive), pa)
					expected.add(float64(sc.holdout), e)
					none.add(noPurchase, p0)
					for name, f := range tt.wrong {
						wrongs[name].add(noPurchase, f(sc.c, pa, p0))
					}
				}
				for _, q := range []struct {
					name string
					b    bias
				}{{"P(alive)", alive}, {"expected purchases", expected}, {"P(no purchase)", none}} {
					t.Logf("%s %s: n %.0f, observed-predicted %.5f ± %.5f", g.name, q.name, q.b.n, q.b.mean(), q.b.se())
					if math.Abs(q.b.mean()) > 4*q.b.se() {
						t.Errorf("%s %s: observed-predicted %.5f, more than 4 standard errors (%.5f)", g.name, q.name, q.b.mean(), q.b.se())
					}
				}
				for name, b := range wrongs {
					t.Logf("%s wrong P(no purchase) %q: observed-predicted %.5f ± %.5f", g.name, name, b.mean(), b.se())
					if math.Abs(b.mean()) > 8*b.se() {
						wrongDetected[name] = true
					}
				}
			}
			for name := range tt.wrong {
				if !wrongDetected[name] {
					t.Errorf("wrong P(no purchase) %q passed in every group", name)
				}
			}
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
