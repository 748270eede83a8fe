package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"tailor/shared/local/dataset"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
)

func init() {
	register("backtest", "check churn, purchase and value predictions against a holdout period of a transactions file", runBacktest)
}

func runBacktest(ctx context.Context, args []string) error {
	return backtestMain(ctx, args, os.Stdout)
}

// backtestOutput is the --json output.
type backtestOutput struct {
	CalibrationEnd string              `json:"calibration_end"`
	HoldoutEnd     string              `json:"holdout_end"`
	TimeUnit       segments.TimeUnit   `json:"time_unit"`
	Selection      *holdout.Selection  `json:"selection,omitempty"`
	GammaGamma     clv.GammaGamma      `json:"gamma_gamma"`
	Reports        []holdout.Report    `json:"reports"`
	Failed         []holdout.Candidate `json:"failed,omitempty"`
}

// backtestMain is the command without the process around it, so a test can
// run it and read what it prints.
func backtestMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	path := fs.String("transactions", "", "transactions file (.gz allowed)")
	format := fs.String("format", "transactions", "file format: transactions (customer_id,date,amount), online-retail (cleaned as docs/data-cleaning.md), cdnow (CDNOW_sample.txt)")
	calEnd := fs.String("calibration-end", "", "last day of the calibration period, YYYY-MM-DD (its purchases count)")
	holdEnd := fs.String("holdout-end", "", "last day of the holdout period, YYYY-MM-DD")
	unit := fs.String("unit", "week", "time unit of the purchase models: day or week")
	model := fs.String("model", "auto", "churn and purchase model: auto (chosen by the nightly job's rule), all, "+strings.Join(churnModels(), ", "))
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var problems []error
	if *path == "" {
		problems = append(problems, errors.New("--transactions is required"))
	}
	d, errD := dataset.ParseDate(*calEnd)
	e, errE := dataset.ParseDate(*holdEnd)
	if errD != nil {
		problems = append(problems, fmt.Errorf("--calibration-end %q: want YYYY-MM-DD", *calEnd))
	}
	if errE != nil {
		problems = append(problems, fmt.Errorf("--holdout-end %q: want YYYY-MM-DD", *holdEnd))
	}
	if errD == nil && errE == nil && e <= d {
		problems = append(problems, errors.New("--holdout-end must be after --calibration-end"))
	}
	u := segments.TimeUnit(*unit)
	if u.Days() == 0 {
		problems = append(problems, fmt.Errorf("--unit %q: want day or week", *unit))
	}
	names, err := modelNames(*model)
	if err != nil {
		problems = append(problems, err)
	}
	if err := errors.Join(problems...); err != nil {
		return err
	}
	txs, err := readTransactions(*path, *format)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	horizon := float64(e-d) / u.Days()
	customers := backtestCustomers(txs, d, e, u)
	out := backtestOutput{CalibrationEnd: d.String(), HoldoutEnd: e.String(), TimeUnit: u}
	if *model == "auto" {
		// The nightly job's rule, applied inside the calibration period: the
		// holdout plays no part in the choice.
		// The selection's horizon is the holdout's, or half the calibration
		// period when that is shorter, so a young shop still has history
		// before it.
		hs := e - d
		if first := firstDate(txs); (d-first)/2 < hs {
			hs = (d - first) / 2
		}
		inner := backtestCustomers(txs, d-hs, d, u)
		sel, err := holdout.Select(inner, churnModels(), fitterAt(txs, d-hs, hs, u), float64(hs)/u.Days())
		if err != nil {
			return fmt.Errorf("select a model: %w", err)
		}
		out.Selection = &sel
		names = []string{sel.Model}
	}
	gg, err := fitSpend(customers)
	if err != nil {
		return err
	}
	out.GammaGamma = gg
	fit := fitterAt(txs, d, e-d, u)
	for _, name := range names {
		m, err := fit(name)
		if err != nil {
			if len(names) == 1 {
				return fmt.Errorf("fit %s: %w", name, err)
			}
			// One model that does not fit leaves the others to compare.
			out.Failed = append(out.Failed, holdout.Candidate{Model: name, Err: err.Error()})
			continue
		}
		r, err := holdout.Run(customers, m, gg, horizon)
		if err != nil {
			return err
		}
		out.Reports = append(out.Reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printBacktest(stdout, out, len(customers))
}

// churnModels are the models a selection weighs: the three purchase models,
// the churn logit and the boosted churn model.
func churnModels() []string { return append(clv.ModelNames(), clv.ModelLogit, clv.ModelBoost) }

// modelNames is the models --model names.
func modelNames(model string) ([]string, error) {
	switch {
	case model == "auto":
		return nil, nil
	case model == "all":
		return churnModels(), nil
	case slices.Contains(churnModels(), model):
		return []string{model}, nil
	}
	return nil, fmt.Errorf("--model %q: want auto, all or one of %s", model, strings.Join(churnModels(), ", "))
}

// fitBudget bounds each model fit: a model that cannot fit the data in
// that time is reported as failed rather than holding up the command.
const fitBudget = 60 * time.Second

// logitWindows is how many consecutive past horizons the churn logit
// learns from (fewer when the data does not reach back that far).
var logitWindows dataset.Date = 3

// boostStep is the spacing of the boosted churn model's training windows,
// and boostMinHistory how much history the earliest one has after the
// data's first day. A window of fewer than boostMinCustomers customers is
// left out: BG/NBD fitted on so few can run to degenerate parameters,
// which make its expected purchases slow and meaningless.
const (
	boostStep         dataset.Date = 7
	boostMinHistory   dataset.Date = 28
	boostMinCustomers              = 200
)

// fitterAt fits models on the transactions up to end (inclusive) for a
// horizon of h days. A purchase model is fitted on the histories as of
// end. The churn logit is trained on the histories as of end − h with
// what each customer did in (end − h, end] as the outcome, and takes its
// expected purchases from BG/NBD fitted as of end. The boosted churn model
// is trained on the histories as of end − h, end − h − 7 days, … back to
// four weeks after the first day, each with the outcome of the h days
// after it and BG/NBD fitted as of it as the prior; it predicts with
// BG/NBD fitted as of end as the prior and takes its expected purchases
// from it.
func fitterAt(txs []dataset.Transaction, end, h dataset.Date, u segments.TimeUnit) holdout.Fitter {
	return func(name string) (holdout.Model, error) {
		if name == clv.ModelBoost {
			return fitBoost(txs, end, h, u)
		}
		if name != clv.ModelLogit {
			return fitPurchaseModel(name, txs, end, u)
		}
		var cal []clv.ChurnFeatures
		var none []bool
		for k := dataset.Date(1); k <= logitWindows; k++ {
			for _, c := range backtestCustomers(txs, end-k*h, end-(k-1)*h, u) {
				cal, none = append(cal, c.Features), append(none, c.HoldoutPurchases == 0)
			}
		}
		logit, err := clv.FitChurnLogit(cal, none, float64(h)/u.Days())
		if err != nil {
			return nil, err
		}
		counts, err := fitPurchaseModel(clv.ModelBGNBD, txs, end, u)
		if err != nil {
			return nil, err
		}
		return holdout.Hybrid{Label: clv.ModelLogit, Churn: logit, Counts: counts}, nil
	}
}

// fitBoost fits the boosted churn model as fitterAt describes.
func fitBoost(txs []dataset.Transaction, end, h dataset.Date, u segments.TimeUnit) (holdout.Model, error) {
	var ws []clv.ChurnWindow
	for cut := end - h; cut >= firstDate(txs)+boostMinHistory; cut -= boostStep {
		cs := backtestCustomers(txs, cut, cut+h, u)
		if len(cs) < boostMinCustomers {
			break // earlier windows are smaller still
		}
		prior, err := fitPurchaseModel(clv.ModelBGNBD, txs, cut, u)
		if err != nil {
			return nil, fmt.Errorf("prior as of %s: %w", cut, err)
		}
		w := clv.ChurnWindow{Prior: prior.(clv.PurchaseModel)}
		for _, c := range cs {
			w.Customers, w.None = append(w.Customers, c.Features), append(w.None, c.HoldoutPurchases == 0)
		}
		ws = append(ws, w)
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("%w: no training window of %d or more customers whose outcome is known by %s", clv.ErrNoData, boostMinCustomers, end)
	}
	m, err := clv.FitChurnBoost(ws, float64(h)/u.Days(), clv.DefaultBoostConfig)
	if err != nil {
		return nil, err
	}
	counts, err := fitPurchaseModel(clv.ModelBGNBD, txs, end, u)
	if err != nil {
		return nil, err
	}
	m.Prior = counts.(clv.PurchaseModel)
	return holdout.Hybrid{Label: clv.ModelBoost, Churn: m, Counts: counts}, nil
}

// fitPurchaseModel fits the named purchase model on the histories as of end.
func fitPurchaseModel(name string, txs []dataset.Transaction, end dataset.Date, u segments.TimeUnit) (holdout.Model, error) {
	var s clv.Summary
	for _, c := range dataset.Summarize(txs, end) {
		if err := s.Add(clv.Customer{X: c.Repeat, TX: float64(c.RecencyDays) / u.Days(), T: float64(c.AgeDays) / u.Days()}); err != nil {
			return nil, err
		}
	}
	m, _, err := clv.FitModel(name, &s, clv.FitOptions{MaxDuration: fitBudget})
	return m, err
}

// fitSpend fits Gamma-Gamma on the calibration repeat buyers.
func fitSpend(cs []holdout.Customer) (clv.GammaGamma, error) {
	var s clv.SpendSummary
	for _, c := range cs {
		if _, err := s.Add(c.Cal.X, c.MeanRepeatSpend); err != nil {
			return clv.GammaGamma{}, err
		}
	}
	fit, err := clv.FitGammaGamma(&s, clv.FitOptions{})
	if err != nil {
		return clv.GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	return fit.Model, nil
}

// backtestCustomers summarises transactions as of calibration end d (its
// purchases included) and counts each customer's purchase days and spend
// in (d, e]. Customers whose first purchase is after d are not in it.
func backtestCustomers(txs []dataset.Transaction, d, e dataset.Date, u segments.TimeUnit) []holdout.Customer {
	type day struct {
		id string
		d  dataset.Date
	}
	spend := map[day]int64{}
	// Purchase days in the horizon before d and the one before that: the
	// churn logit's trend features.
	h := e - d
	trend := map[day]bool{}
	for _, t := range txs {
		if t.Date > d && t.Date <= e && t.Amount >= 0 {
			spend[day{t.CustomerID, t.Date}] += t.Amount
		}
		if t.Date > d-2*h && t.Date <= d && t.Amount >= 0 {
			trend[day{t.CustomerID, t.Date}] = true
		}
	}
	recent, earlier := map[string]int{}, map[string]int{}
	for k := range trend {
		if k.d > d-h {
			recent[k.id]++
		} else {
			earlier[k.id]++
		}
	}
	days := map[string]int{}
	spent := map[string]int64{}
	for k, v := range spend {
		days[k.id]++
		spent[k.id] += v
	}
	history := purchaseDays(txs, d, u)
	sums := dataset.Summarize(txs, d)
	out := make([]holdout.Customer, len(sums))
	for i, s := range sums {
		cal := clv.Customer{X: s.Repeat, TX: float64(s.RecencyDays) / u.Days(), T: float64(s.AgeDays) / u.Days()}
		out[i] = holdout.Customer{ID: s.CustomerID, Cal: cal,
			Features: clv.ChurnFeatures{Customer: cal, Recent: recent[s.CustomerID], Earlier: earlier[s.CustomerID],
				MeanSpend: float64(s.TotalSpend) / float64(s.PurchaseDays) / 100, Days: history[s.CustomerID]},
			MeanRepeatSpend:  s.MeanRepeatSpend() / 100,
			HoldoutPurchases: days[s.CustomerID], HoldoutSpend: float64(spent[s.CustomerID]) / 100}
	}
	return out
}

// purchaseDays is each customer's purchase days up to d (inclusive),
// oldest first, with their spend in currency units: the days Summarize
// counts (lines of non-negative amount, merged by day).
func purchaseDays(txs []dataset.Transaction, d dataset.Date, u segments.TimeUnit) map[string][]clv.PurchaseDay {
	type day struct {
		id string
		d  dataset.Date
	}
	spend := map[day]int64{}
	for _, t := range txs {
		if t.Date <= d && t.Amount >= 0 {
			spend[day{t.CustomerID, t.Date}] += t.Amount
		}
	}
	keys := slices.SortedFunc(maps.Keys(spend), func(a, b day) int { return cmp.Compare(a.d, b.d) })
	out := map[string][]clv.PurchaseDay{}
	for _, k := range keys {
		out[k.id] = append(out[k.id], clv.PurchaseDay{Ago: float64(d-k.d) / u.Days(), Spend: float64(spend[k]) / 100})
	}
	return out
}

// firstDate is the earliest transaction's day.
func firstDate(txs []dataset.Transaction) dataset.Date {
	first := txs[0].Date
	for _, t := range txs {
		first = min(first, t.Date)
	}
	return first
}

// readTransactions reads a file in one of the backtest's formats.
func readTransactions(path, format string) ([]dataset.Transaction, error) {
	f, err := dataset.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch format {
	case "transactions":
		return dataset.ReadTransactions(f)
	case "cdnow":
		ps, err := dataset.ReadCDNOWSample(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return dataset.CDNOWTransactions(ps), nil
	case "online-retail":
		var txs []dataset.Transaction
		err := dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
			if r.Kind == dataset.RowPurchase {
				txs = append(txs, dataset.Transaction{CustomerID: r.CustomerID, Date: dataset.DateOf(r.Time), Amount: r.Quantity * r.UnitPriceMinor})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return txs, nil
	}
	return nil, fmt.Errorf("--format %q: want transactions, online-retail or cdnow", format)
}

func printBacktest(w io.Writer, out backtestOutput, customers int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "calibration to %s, holdout to %s (%.1f %ss), %d customers\n", out.CalibrationEnd, out.HoldoutEnd,
		out.Reports[0].Horizon, out.TimeUnit, customers)
	if s := out.Selection; s != nil {
		fmt.Fprintf(w, "model %s, chosen by the %s\n", s.Model, s.Rule)
		for _, c := range s.Candidates {
			if c.Err != "" {
				fmt.Fprintf(w, "  %-10s failed: %s\n", c.Model, c.Err)
				continue
			}
			fmt.Fprintf(w, "  %-10s Brier %.4f  AUC %.4f\n", c.Model, c.Brier, c.AUC)
		}
	}
	g := out.GammaGamma
	fmt.Fprintf(w, "Gamma-Gamma p %.4f q %.4f v %.4f\n", g.P, g.Q, g.V)
	for _, f := range out.Failed {
		fmt.Fprintf(w, "%s did not fit: %s\n", f.Model, f.Err)
	}
	for _, r := range out.Reports {
		c := r.Churn
		fmt.Fprintf(w, "\n== %s ==\nchurn = P(no purchase in the holdout): AUC %.4f, Brier %.4f vs base rate %.4f (%.4f): %.1f%% better\n",
			r.Model, c.AUC, c.Brier, c.BaseBrier, c.BaseRate, 100*c.Skill)
		fmt.Fprintln(tw, "predicted\tcustomers\tmean predicted\tobserved\t")
		for _, b := range c.Reliability {
			fmt.Fprintf(tw, "%.1f-%.1f\t%d\t%s\t%s\t\n", b.Low, b.High, b.Customers, orDash(b.Customers, b.Predicted), orDash(b.Customers, b.Observed))
		}
		tw.Flush()
		p := r.Purchases
		fmt.Fprintf(w, "purchases in the holdout: predicted %.1f, actual %.0f (%+.1f%%), mean absolute error %.3f per customer\n",
			p.Predicted, p.Actual, 100*(p.Predicted-p.Actual)/p.Actual, p.MAE)
		fmt.Fprintln(tw, "calibration x\tcustomers\tpredicted\tactual\t")
		for _, gr := range p.ByFrequency {
			x := fmt.Sprint(gr.X)
			if gr.OrMore {
				x += "+"
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t\n", x, gr.Customers, gr.Predicted, gr.Actual)
		}
		tw.Flush()
		printDeciles(w, tw, "predicted purchases", p.Deciles, "%.3f")
		v := r.Value
		fmt.Fprintf(w, "spend in the holdout: predicted %.2f, actual %.2f (%+.1f%%), Spearman rank correlation %.4f\n",
			v.Predicted, v.Actual, 100*(v.Predicted-v.Actual)/v.Actual, v.Spearman)
		printDeciles(w, tw, "predicted spend", v.Deciles, "%.2f")
	}
	return nil
}

func printDeciles(w io.Writer, tw *tabwriter.Writer, what string, ds []holdout.Decile, f string) {
	fmt.Fprintf(tw, "decile of %s\tcustomers\tpredicted\tactual\t\n", what)
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%d\t"+f+"\t"+f+"\t\n", d.Decile, d.Customers, d.Predicted, d.Actual)
	}
	tw.Flush()
}

func orDash(n int, v float64) string {
	if n == 0 || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}
