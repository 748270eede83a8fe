package service

import (
	"context"
	"fmt"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/bus"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
)

// Source is the bus source of the events segmentation publishes.
const Source = "tailor.segments"

// The detail types segmentation publishes (docs/events.md).
const (
	TypeSegmentEntered  = "segment.entered"
	TypeSegmentLeft     = "segment.left"
	TypeChurnRiskRaised = "churn_risk.raised"
)

// writeBackChunk is how many customers' events are published before their
// scores are written: a failed run repeats at most that many customers'
// publishing beyond what it had not written.
const writeBackChunk = 1000

// SegmentEntered is the detail of segment.entered: the customer's scores
// of the run put it in Segment. PreviousSegment is empty for a customer no
// earlier run scored.
type SegmentEntered struct {
	CustomerID      string `json:"customer_id"`
	Segment         string `json:"segment"`
	PreviousSegment string `json:"previous_segment,omitempty"`
	RunID           string `json:"run_id"`
	AsOf            string `json:"as_of"`
	Currency        string `json:"currency"`
}

// SegmentLeft is the detail of segment.left: the customer was in Segment
// by the scores of an earlier run and is in NextSegment by this run's.
type SegmentLeft struct {
	CustomerID    string `json:"customer_id"`
	Segment       string `json:"segment"`
	NextSegment   string `json:"next_segment"`
	PreviousRunID string `json:"previous_run_id"`
	RunID         string `json:"run_id"`
	AsOf          string `json:"as_of"`
}

// ChurnRiskRaised is the detail of churn_risk.raised: the customer's churn
// band is higher than by the scores of an earlier run.
type ChurnRiskRaised struct {
	CustomerID        string  `json:"customer_id"`
	ChurnRisk         string  `json:"churn_risk"`
	PreviousChurnRisk string  `json:"previous_churn_risk"`
	ChurnProbability  float64 `json:"churn_probability"`
	PreviousRunID     string  `json:"previous_run_id"`
	RunID             string  `json:"run_id"`
	AsOf              string  `json:"as_of"`
}

// churnRank orders the churn bands; an unknown band ranks 0, below every
// band, so no rise is ever reported from or to it.
var churnRank = map[string]int{string(clv.ChurnLow): 1, string(clv.ChurnMedium): 2,
	string(clv.ChurnHigh): 3, string(clv.ChurnVeryHigh): 4}

// Changes returns the events that a customer's new scores make against
// the scores the record held before (nil when none): segment.left and
// segment.entered when the segment differs (segment.entered alone for a
// customer scored for the first time), churn_risk.raised when the churn
// band is higher. Previous scores of a later as-of date give nothing: the
// write-back keeps them. A re-run of the same run over records that
// already hold its scores gives nothing either, since nothing differs.
//
// Every id joins the type, the customer, the run and the state reached,
// so an emission retried after a crash carries the same ids, while a
// re-run of the same date that decides differently is a new fact. The
// time is the end of the as-of day, when the scores hold.
func Changes(prev *customers.Scores, cur segments.CustomerScores) []bus.Event {
	s := cur.Scores
	if prev != nil && prev.AsOf > s.AsOf {
		return nil
	}
	at, err := time.Parse(time.DateOnly, s.AsOf)
	if err != nil {
		return nil
	}
	at = at.AddDate(0, 0, 1)
	ev := func(typ, state string, detail any) bus.Event {
		return bus.Event{ID: typ + ":" + cur.CustomerID + ":" + s.RunID + ":" + state, Source: Source,
			DetailType: typ, Detail: detail, Time: at}
	}
	var out []bus.Event
	switch {
	case prev == nil:
		out = append(out, ev(TypeSegmentEntered, s.Segment, SegmentEntered{CustomerID: cur.CustomerID, Segment: s.Segment,
			RunID: s.RunID, AsOf: s.AsOf, Currency: s.Currency}))
		return out
	case prev.Segment != s.Segment:
		out = append(out,
			ev(TypeSegmentLeft, prev.Segment, SegmentLeft{CustomerID: cur.CustomerID, Segment: prev.Segment, NextSegment: s.Segment,
				PreviousRunID: prev.RunID, RunID: s.RunID, AsOf: s.AsOf}),
			ev(TypeSegmentEntered, s.Segment, SegmentEntered{CustomerID: cur.CustomerID, Segment: s.Segment,
				PreviousSegment: prev.Segment, RunID: s.RunID, AsOf: s.AsOf, Currency: s.Currency}))
	}
	if from, to := churnRank[prev.ChurnRisk], churnRank[s.ChurnRisk]; from > 0 && to > from {
		out = append(out, ev(TypeChurnRiskRaised, s.ChurnRisk, ChurnRiskRaised{CustomerID: cur.CustomerID, ChurnRisk: s.ChurnRisk,
			PreviousChurnRisk: prev.ChurnRisk, ChurnProbability: s.ChurnProbability, PreviousRunID: prev.RunID,
			RunID: s.RunID, AsOf: s.AsOf}))
	}
	return out
}

// writeBack publishes the change events of a worker's scores and then
// writes the scores, a chunk at a time. Publishing first is what makes
// delivery at least once: a crash after the publish leaves the old scores
// on the records, so the re-run finds the same changes and publishes the
// same ids again, while once a record holds the run's scores a re-run
// finds nothing changed and publishes nothing. Without a bus the scores
// are only written.
func (j *Job) writeBack(ctx context.Context, scores []segments.CustomerScores, prev map[string]customers.Scores, t *Tally) error {
	for start := 0; start < len(scores); start += writeBackChunk {
		chunk := scores[start:min(start+writeBackChunk, len(scores))]
		if j.Bus != nil {
			var evs []bus.Event
			for _, cs := range chunk {
				var p *customers.Scores
				if s, ok := prev[cs.CustomerID]; ok {
					p = &s
				}
				evs = append(evs, Changes(p, cs)...)
			}
			if len(evs) > 0 {
				if err := j.Bus.Publish(ctx, evs...); err != nil {
					return fmt.Errorf("publish segment changes: %w", err)
				}
				for _, e := range evs {
					if t.Published == nil {
						t.Published = map[string]int64{}
					}
					t.Published[e.DetailType]++
				}
			}
		}
		w, u, err := j.Customers.WriteScores(ctx, chunk)
		t.Written += w
		t.Unchanged += u
		if err != nil {
			return fmt.Errorf("write back scores: %w", err)
		}
	}
	return nil
}
