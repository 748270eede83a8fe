package service

import (
	"context"
	"fmt"
	"time"

	"tailor/shared/platform/blob"
	"tailor/shared/segments"
)

// Request is one invocation of the score function. With no phase it is
// a whole run on the local runner: the nightly EventBridge schedule (which
// sets Time) or a direct invoke such as {"as_of": "2011-12-09"} for
// backfills and re-runs. With a phase it is one state of the fanned-out
// run that the Step Functions state machine drives (docs/segmentation.md).
type Request struct {
	Phase string `json:"phase,omitempty"`
	// AsOf is the run date (RFC 3339 or YYYY-MM-DD); only its UTC day
	// matters, and purchases on that day count (AsOfDate).
	AsOf string `json:"as_of,omitempty"`
	// Time is the time of an EventBridge scheduled event. Without AsOf the
	// run is as of the day before Time's UTC day, or without either as of
	// yesterday: the last whole day, as the nightly schedule runs.
	Time string `json:"time,omitempty"`
	// RunID, Segment and Iteration address a fanned-out step.
	RunID     string `json:"run_id,omitempty"`
	Segment   int    `json:"segment,omitempty"`
	Iteration int    `json:"iteration,omitempty"`
	// Input is the execution input the state machine hands the plan phase
	// (a scheduled event or {"as_of": ...}).
	Input *Request `json:"input,omitempty"`
	// CalibrationEnd and HoldoutEnd (YYYY-MM-DD) ask the "backtest" phase
	// to calibrate up to the first and score against the days after it up
	// to the second (Job.Backtest).
	CalibrationEnd string `json:"calibration_end,omitempty"`
	HoldoutEnd     string `json:"holdout_end,omitempty"`
}

// Response is what an invocation returns: the run and, for the state
// machine, where it stands.
type Response struct {
	RunID     string           `json:"run_id"`
	AsOf      string           `json:"as_of"`
	Segments  []int            `json:"segments,omitempty"`
	Iteration int              `json:"iteration"`
	Done      bool             `json:"done"`
	Record    *segments.Report `json:"record,omitempty"`
	// Backtest is the answer of the "backtest" phase.
	Backtest *BacktestResult `json:"backtest,omitempty"`
}

// The phases of a fanned-out run, in order.
const (
	PhasePlan      = "plan"
	PhaseSummarise = "summarise"
	PhaseFit       = "fit"
	PhaseAssign    = "assign"
	PhaseUpdate    = "update"
	PhaseScore     = "score"
	PhaseFinish    = "finish"
	// PhaseBacktest is no step of a run: it backtests the models
	// (Job.Backtest) and stores the result with the run as of the
	// calibration end.
	PhaseBacktest = "backtest"
)

// state is what the merge steps of a fanned-out run keep between
// invocations: the model (whose plan carries the currency chosen), the
// merged counts and how the currency was chosen.
type state struct {
	Model          *Model   `json:"model"`
	Counts         *Partial `json:"counts"`
	CurrencyChoice string   `json:"currency_choice"`
	StartedAt      string   `json:"started_at"`
}

// asOf picks the run date of a request: as_of when given; otherwise the
// day before the scheduled event's time, or before now, because a run
// started by the schedule just after midnight scores the day that has just
// ended, never the one that has just begun.
func (j *Job) asOf(r *Request) (time.Time, error) {
	switch {
	case r == nil:
		return Yesterday(j.now()), nil
	case r.AsOf != "":
		return ParseAsOf(r.AsOf)
	case r.Time != "":
		t, err := time.Parse(time.RFC3339, r.Time)
		if err != nil {
			return time.Time{}, badRequest("time %q is not RFC 3339", r.Time)
		}
		return Yesterday(t), nil
	}
	return Yesterday(j.now()), nil
}

// Handle serves one invocation.
func (j *Job) Handle(ctx context.Context, r Request) (Response, error) {
	switch r.Phase {
	case "", "run":
		asOf, err := j.asOf(&r)
		if err != nil {
			return Response{}, err
		}
		rec, err := j.Run(ctx, asOf)
		if err != nil {
			return Response{}, err
		}
		return Response{RunID: rec.RunID, AsOf: rec.AsOf, Done: true, Record: &rec}, nil
	case PhasePlan:
		return j.plan(ctx, r.Input)
	case PhaseBacktest:
		cal, err := ParseAsOf(r.CalibrationEnd)
		if err != nil {
			return Response{}, badRequest("calibration_end must be YYYY-MM-DD")
		}
		hold, err := ParseAsOf(r.HoldoutEnd)
		if err != nil {
			return Response{}, badRequest("holdout_end must be YYYY-MM-DD")
		}
		res, err := j.Backtest(ctx, cal, hold)
		if err != nil {
			return Response{}, err
		}
		return Response{RunID: RunID(cal), AsOf: res.CalibrationEnd, Done: true, Backtest: &res}, nil
	}
	plan, err := j.planOf(r.RunID)
	if err != nil {
		return Response{}, err
	}
	if r.Segment < 0 || r.Segment >= plan.Config.Segments {
		return Response{}, badRequest("segment %d outside 0..%d", r.Segment, plan.Config.Segments-1)
	}
	switch r.Phase {
	case PhaseSummarise:
		w, err := j.scan(ctx, plan, r.Segment)
		if err != nil {
			return Response{}, err
		}
		return j.respond(plan, nil), j.putBlob(ctx, plan.RunID, fmt.Sprintf("summary/%04d", r.Segment), w.summary)
	case PhaseFit:
		return j.fit(ctx, plan)
	case PhaseAssign:
		st, err := j.state(ctx, plan.RunID)
		if err != nil {
			return Response{}, err
		}
		if st.Model.Iteration != r.Iteration || st.Model.Done {
			return Response{}, badRequest("assign iteration %d, but the run is at iteration %d (done %v)", r.Iteration, st.Model.Iteration, st.Model.Done)
		}
		w, err := j.scan(ctx, st.Model.Plan, r.Segment)
		if err != nil {
			return Response{}, err
		}
		return j.respond(plan, st.Model), j.putBlob(ctx, plan.RunID, fmt.Sprintf("step/%04d/%04d", r.Iteration, r.Segment), Assign(w.customers, st.Model))
	case PhaseUpdate:
		return j.update(ctx, plan)
	case PhaseScore:
		st, err := j.state(ctx, plan.RunID)
		if err != nil {
			return Response{}, err
		}
		if !st.Model.Done {
			return Response{}, badRequest("score before k-means finished")
		}
		w, err := j.scan(ctx, st.Model.Plan, r.Segment)
		if err != nil {
			return Response{}, err
		}
		t, err := j.scoreAndWrite(ctx, w, st.Model)
		if err != nil {
			return Response{}, err
		}
		return j.respond(plan, st.Model), j.putBlob(ctx, plan.RunID, fmt.Sprintf("tally/%04d", r.Segment), t)
	case PhaseFinish:
		st, err := j.state(ctx, plan.RunID)
		if err != nil {
			return Response{}, err
		}
		tally := &Tally{}
		for seg := range plan.Config.Segments {
			var t Tally
			if err := j.getBlob(ctx, plan.RunID, fmt.Sprintf("tally/%04d", seg), &t); err != nil {
				return Response{}, err
			}
			tally.Merge(&t)
		}
		start, _ := time.Parse(time.RFC3339, st.StartedAt)
		rec, err := j.finish(ctx, st.Model, st.Counts, tally, st.CurrencyChoice, "fanout", start)
		if err != nil {
			return Response{}, err
		}
		// The seeding sample names customers; once the run is complete no
		// step needs it, and erasure must not miss it in a left-over blob.
		st.Counts.Sample = nil
		if err := j.putBlob(ctx, plan.RunID, "state", st); err != nil {
			return Response{}, err
		}
		if err := j.Runs.DeleteBlobs(ctx, plan.RunID, "summary/"); err != nil {
			return Response{}, err
		}
		resp := j.respond(plan, st.Model)
		resp.Record = &rec
		return resp, nil
	}
	return Response{}, badRequest("unknown phase %q", r.Phase)
}

func (j *Job) planOf(runID string) (Plan, error) {
	if runID == "" {
		return Plan{}, badRequest("run_id is required")
	}
	asOf, err := ParseAsOf(runID)
	if err != nil {
		return Plan{}, err
	}
	return j.newPlan(asOf)
}

func (j *Job) respond(plan Plan, m *Model) Response {
	segs := make([]int, plan.Config.Segments)
	for i := range segs {
		segs[i] = i
	}
	r := Response{RunID: plan.RunID, AsOf: plan.AsOf.Format(time.DateOnly), Segments: segs}
	if m != nil {
		r.Iteration, r.Done = m.Iteration, m.Done
	}
	return r
}

func (j *Job) plan(ctx context.Context, in *Request) (Response, error) {
	asOf, err := j.asOf(in)
	if err != nil {
		return Response{}, err
	}
	plan, err := j.newPlan(asOf)
	if err != nil {
		return Response{}, err
	}
	rec := segments.Report{RunID: plan.RunID, AsOf: plan.AsOf.Format(time.DateOnly),
		Status: "running", Phase: "planned", Mode: "fanout", Config: plan.Config, StartedAt: j.now().UTC().Format(time.RFC3339)}
	rec.Currency, rec.CurrencyChoice = planCurrency(plan)
	if err := j.Runs.SaveRun(ctx, rec); err != nil {
		return Response{}, err
	}
	return j.respond(plan, nil), nil
}

func (j *Job) fit(ctx context.Context, plan Plan) (Response, error) {
	merged := &Summary{}
	for seg := range plan.Config.Segments {
		var s Summary
		if err := j.getBlob(ctx, plan.RunID, fmt.Sprintf("summary/%04d", seg), &s); err != nil {
			return Response{}, err
		}
		merged.Merge(&s, plan.Config.SampleSize)
	}
	cur, choice := merged.Choose(plan.Config.Currency)
	all := merged.Counts(cur)
	m, err := Fit(all, InCurrency(plan, cur))
	if err != nil {
		return Response{}, err
	}
	j.logSpendIssue(ctx, m)
	counts := &Partial{Scanned: all.Scanned, Customers: all.Customers, NoPurchase: all.NoPurchase, OtherCurrency: all.OtherCurrency,
		Currencies: all.Currencies, Activity: all.Activity}
	st := state{Model: m, Counts: counts, CurrencyChoice: choice, StartedAt: j.now().UTC().Format(time.RFC3339)}
	if err := j.putBlob(ctx, plan.RunID, "state", st); err != nil {
		return Response{}, err
	}
	rec := segments.Report{RunID: plan.RunID, AsOf: plan.AsOf.Format(time.DateOnly), Currency: cur,
		CurrencyChoice: choice, CurrencyCustomers: counts.Currencies,
		Status: "running", Phase: "fitted", Mode: "fanout", Config: plan.Config, Scanned: counts.Scanned,
		Customers: counts.Customers, SkippedNoPurchase: counts.NoPurchase, SkippedOtherCurrency: counts.OtherCurrency}
	if err := j.Runs.SaveRun(ctx, rec); err != nil {
		return Response{}, err
	}
	return j.respond(plan, m), nil
}

func (j *Job) update(ctx context.Context, plan Plan) (Response, error) {
	st, err := j.state(ctx, plan.RunID)
	if err != nil {
		return Response{}, err
	}
	m := st.Model
	if m.Done {
		// A retried update after the state was saved: nothing to do.
		return j.respond(plan, m), nil
	}
	total := newStep(m.K, len(m.Mean))
	for seg := range plan.Config.Segments {
		var s Step
		if err := j.getBlob(ctx, plan.RunID, fmt.Sprintf("step/%04d/%04d", m.Iteration, seg), &s); err != nil {
			return Response{}, err
		}
		if len(s.Counts) != m.K {
			return Response{}, ErrStepMismatch
		}
		total.Merge(&s)
	}
	if err := Update(m, total); err != nil {
		return Response{}, err
	}
	if err := j.putBlob(ctx, plan.RunID, "state", st); err != nil {
		return Response{}, err
	}
	return j.respond(plan, m), nil
}

func (j *Job) state(ctx context.Context, runID string) (*state, error) {
	var st state
	if err := j.getBlob(ctx, runID, "state", &st); err != nil {
		return nil, err
	}
	if st.Model == nil || st.Counts == nil {
		return nil, fmt.Errorf("run %s: state blob is incomplete", runID)
	}
	return &st, nil
}

func (j *Job) putBlob(ctx context.Context, runID, name string, v any) error {
	b, err := blob.Encode(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return j.Runs.PutBlob(ctx, runID, name, b)
}

func (j *Job) getBlob(ctx context.Context, runID, name string, v any) error {
	b, err := j.Runs.GetBlob(ctx, runID, name)
	if err != nil {
		return err
	}
	if err := blob.Decode(b, v); err != nil {
		return fmt.Errorf("decode %s of run %s: %w", name, runID, err)
	}
	return nil
}
