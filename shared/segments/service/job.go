package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/money"
	"tailor/shared/segments"
)

// Customers is the customer storage the job needs. Implementations must
// be safe for concurrent use.
type Customers interface {
	// ScanSegment reads scan segment seg of total, calling fn with each
	// page of customer records (never the profile), each with the scores
	// it holds. Every customer record is in exactly one of the total
	// segments.
	ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error
	// WriteScores writes each customer's scores and its segment key,
	// touching no other attribute. A record that already holds exactly
	// these scores, holds scores of a later as-of date, or no longer
	// exists is left alone and counted as unchanged.
	WriteScores(ctx context.Context, scores []segments.CustomerScores) (written, unchanged int64, err error)
}

// Runs is the run storage the job needs. Implementations must be safe for
// concurrent use.
type Runs interface {
	// SaveRun stores the run's report, replacing an earlier one of the run.
	SaveRun(ctx context.Context, rep segments.Report) error
	// SaveSegments stores the per-segment reports of a run.
	SaveSegments(ctx context.Context, runID string, reps []segments.SegmentReport) error
	// SetLatest makes runID the latest run unless a run of a later as-of
	// date already is.
	SetLatest(ctx context.Context, runID, asOf string) error
	// PutBlob and GetBlob keep the intermediate results of a fanned-out
	// run (partials, model state) under the run, by name; writing a name
	// again replaces it, and GetBlob of a name never written is NotFound.
	PutBlob(ctx context.Context, runID, name string, data []byte) error
	GetBlob(ctx context.Context, runID, name string) ([]byte, error)
	// DeleteBlobs removes the run's intermediate results whose names start
	// with prefix; deleting what is already gone is not an error.
	DeleteBlobs(ctx context.Context, runID, prefix string) error
}

// Job runs segmentation against storage.
type Job struct {
	Customers Customers
	Runs      Runs
	Config    segments.Config
	// Bus receives the customers' segment and churn-band changes
	// (Changes); nil publishes none.
	Bus bus.Publisher
	Log *slog.Logger
	Now func() time.Time
}

// worker is one scan segment's customers, kept in memory by the local
// runner between steps.
type worker struct {
	summary *Summary
	// inputs holds the model inputs per currency summarised; customers
	// those of the run's currency once it is chosen.
	inputs    map[string][]segments.Customer
	customers []segments.Customer
	// previous holds the scores the records held before the run, by
	// customer id, for the change events of the write-back.
	previous map[string]customers.Scores
}

// scan reads a scan segment and summarises it. With a plan of a chosen
// currency (every step after summarise) the worker's customers are that
// currency's.
func (j *Job) scan(ctx context.Context, plan Plan, seg int) (*worker, error) {
	w := &worker{summary: &Summary{}, inputs: map[string][]segments.Customer{}, previous: map[string]customers.Scores{}}
	err := j.Customers.ScanSegment(ctx, seg, plan.Config.Segments, func(page []segments.CustomerDays) error {
		for _, cd := range page {
			if cd.Previous != nil {
				w.previous[cd.CustomerID] = *cd.Previous
			}
		}
		s, kept, err := Summarise(page, plan)
		if err != nil {
			return err
		}
		w.summary.Merge(s, plan.Config.SampleSize)
		for cur, cs := range kept {
			w.inputs[cur] = append(w.inputs[cur], cs...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan segment %d: %w", seg, err)
	}
	w.customers = w.inputs[plan.Config.Currency]
	return w, nil
}

// keep makes the worker's customers those of currency and drops the
// inputs of the other currencies.
func (w *worker) keep(currency string) {
	w.customers, w.inputs = w.inputs[currency], nil
}

// newPlan plans a run as of asOf with the job's configuration, whose
// currency must be AutoCurrency or an ISO 4217 code the events API takes.
func (j *Job) newPlan(asOf time.Time) (Plan, error) {
	plan, err := NewPlan(asOf, j.Config)
	if err != nil {
		return Plan{}, err
	}
	if cur := plan.Config.Currency; cur != segments.AutoCurrency {
		if _, ok := money.Digits(cur); !ok {
			return Plan{}, fmt.Errorf("plan: %w: currency %q is neither %q nor an ISO 4217 code", segments.ErrInvalid, cur, segments.AutoCurrency)
		}
	}
	return plan, nil
}

// planCurrency is the currency a run reports before it has chosen: the
// configured one, or "" for AutoCurrency.
func planCurrency(plan Plan) (currency, choice string) {
	if plan.Config.Currency == segments.AutoCurrency {
		return "", ""
	}
	return plan.Config.Currency, segments.CurrencyConfigured
}

// parallel runs f for each worker index concurrently and returns the
// first error.
func parallel(n int, f func(i int) error) error {
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errsOut[i] = f(i)
		}()
	}
	wg.Wait()
	for _, err := range errsOut {
		if err != nil {
			return err
		}
	}
	return nil
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Job) log() *slog.Logger {
	if j.Log != nil {
		return j.Log
	}
	return slog.Default()
}

// Run is the local runner: the whole job in one process, one goroutine per
// scan segment, each keeping its customers in memory between the steps.
// It runs exactly the worker and merge functions the fanned-out run uses.
// The run record names the last phase finished; a run that dies is
// re-run from the start, which is safe because every write is idempotent.
func (j *Job) Run(ctx context.Context, asOf time.Time) (segments.Report, error) {
	start := j.now()
	plan, err := j.newPlan(asOf)
	if err != nil {
		return segments.Report{}, err
	}
	rec := segments.Report{RunID: plan.RunID, AsOf: plan.AsOf.Format(time.DateOnly),
		Status: "running", Phase: "planned", Mode: "local", Config: plan.Config, StartedAt: start.UTC().Format(time.RFC3339)}
	rec.Currency, rec.CurrencyChoice = planCurrency(plan)
	progress := func(phase string) error {
		rec.Phase = phase
		j.log().InfoContext(ctx, "segment run progress", "runId", plan.RunID, "phase", phase,
			"elapsedMs", j.now().Sub(start).Milliseconds())
		return j.Runs.SaveRun(ctx, rec)
	}
	fail := func(err error) (segments.Report, error) {
		rec.Status = "failed"
		if serr := j.Runs.SaveRun(ctx, rec); serr != nil {
			j.log().ErrorContext(ctx, "segment run: record failure", "runId", plan.RunID, "error", serr.Error())
		}
		return rec, err
	}
	if err := progress("planned"); err != nil {
		return rec, err
	}

	n := plan.Config.Segments
	workers := make([]*worker, n)
	if err := parallel(n, func(i int) error {
		var err error
		workers[i], err = j.scan(ctx, plan, i)
		return err
	}); err != nil {
		return fail(err)
	}
	merged := &Summary{}
	for _, w := range workers {
		merged.Merge(w.summary, plan.Config.SampleSize)
	}
	cur, choice := merged.Choose(plan.Config.Currency)
	for _, w := range workers {
		w.keep(cur)
	}
	counts := merged.Counts(cur)
	rec.Currency, rec.CurrencyChoice, rec.CurrencyCustomers = cur, choice, counts.Currencies
	rec.Scanned, rec.Customers = counts.Scanned, counts.Customers
	rec.SkippedNoPurchase, rec.SkippedOtherCurrency = counts.NoPurchase, counts.OtherCurrency
	if err := progress("summarised"); err != nil {
		return rec, err
	}

	m, err := Fit(counts, InCurrency(plan, cur))
	if err != nil {
		return fail(err)
	}
	j.logSpendIssue(ctx, m)
	if err := progress("fitted"); err != nil {
		return rec, err
	}
	for !m.Done {
		steps := make([]*Step, n)
		_ = parallel(n, func(i int) error {
			steps[i] = Assign(workers[i].customers, m)
			return nil
		})
		total := newStep(m.K, len(m.Mean))
		for _, s := range steps {
			total.Merge(s)
		}
		if err := Update(m, total); err != nil {
			return fail(err)
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
	}
	if err := progress("clustered"); err != nil {
		return rec, err
	}

	tallies := make([]*Tally, n)
	if err := parallel(n, func(i int) error {
		var err error
		tallies[i], err = j.scoreAndWrite(ctx, workers[i], m)
		return err
	}); err != nil {
		return fail(err)
	}
	tally := &Tally{}
	for _, t := range tallies {
		tally.Merge(t)
	}
	return j.finish(ctx, m, counts, tally, choice, rec.Mode, start)
}

// scoreAndWrite is the scoring worker with its write-back and the change
// events it publishes.
func (j *Job) scoreAndWrite(ctx context.Context, w *worker, m *Model) (*Tally, error) {
	scores, t, err := Score(w.customers, m)
	if err != nil {
		return nil, err
	}
	if err := j.writeBack(ctx, scores, w.previous, t); err != nil {
		return nil, err
	}
	return t, nil
}

// finish stores the run record and summaries and moves the latest pointer.
// choice says how the model's currency was chosen.
func (j *Job) finish(ctx context.Context, m *Model, counts *Partial, t *Tally, choice, mode string, start time.Time) (segments.Report, error) {
	rec := Finish(m, counts, t)
	rec.Mode = mode
	rec.CurrencyChoice, rec.CurrencyCustomers = choice, counts.Currencies
	if choice == segments.CurrencyDominant {
		// The model's plan carries the currency chosen; the report's
		// configuration says what was configured.
		rec.Config.Currency = segments.AutoCurrency
	}
	end := j.now()
	rec.StartedAt, rec.FinishedAt = start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
	rec.DurationMS = end.Sub(start).Milliseconds()
	if err := j.Runs.SaveSegments(ctx, rec.RunID, rec.Segments); err != nil {
		return rec, err
	}
	if err := j.Runs.SaveRun(ctx, rec); err != nil {
		return rec, err
	}
	if err := j.Runs.SetLatest(ctx, rec.RunID, rec.AsOf); err != nil {
		return rec, err
	}
	j.log().InfoContext(ctx, "segment run complete", "runId", rec.RunID, "mode", mode, "currency", rec.Currency,
		"currencyChoice", choice, "customers", rec.Customers,
		"written", rec.Written, "unchanged", rec.Unchanged, "published", t.Published, "durationMs", rec.DurationMS)
	return rec, nil
}

// logSpendIssue logs why a fit has no spend model, with the fitting
// library's own error, which the run's report leaves out.
func (j *Job) logSpendIssue(ctx context.Context, m *Model) {
	if m.SpendIssue != nil {
		j.log().WarnContext(ctx, "segment run: no spend model", "runId", m.Plan.RunID, "code", m.SpendIssue.Code, "error", m.SpendCause)
	}
}

// badRequest is an Invalid error for a malformed invocation.
func badRequest(format string, args ...any) error {
	return errs.E(errs.Invalid, fmt.Sprintf(format, args...))
}
