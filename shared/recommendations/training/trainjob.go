// Package training is the nightly training job behind the train function:
// it loads the interaction history and the catalogue, trains the
// item-to-item model and the popularity lists with package
// recommendations, and hands the results to storage. It reads and writes
// only through its Store; the model itself is package recommendations'.
package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/obs"
	"tailor/shared/recommendations"
)

// Store is the storage the job needs.
type Store interface {
	// Interactions returns every stored history event as a training
	// interaction.
	Interactions(ctx context.Context) ([]recommendations.Interaction, error)
	// Catalog returns every catalogue item's attributes and the ids of the
	// items that have a stored neighbour list.
	Catalog(ctx context.Context) (map[string]recommendations.Item, []string, error)
	// WriteNeighbours writes the model's neighbour lists, deletes the lists
	// of stale ids the model no longer has, and returns the pairs written.
	WriteNeighbours(ctx context.Context, m *recommendations.Model, attrs map[string]recommendations.Item, stale []string) (int, error)
	// WritePopular replaces the popularity lists.
	WritePopular(ctx context.Context, lists []recommendations.PopularList, attrs map[string]recommendations.Item, asOf time.Time) error
	// PutRun stores the run record (DurationMS from Duration), replacing
	// one with the same as_of.
	PutRun(ctx context.Context, r recommendations.Run) error
}

// Job trains and stores the recommender's model.
type Job struct {
	Store Store
	Log   *slog.Logger
	// Now is the clock; it supplies the default as_of and the run times.
	Now func() time.Time
	// Metrics receives CloudWatch Embedded Metric Format lines; nil
	// discards them.
	Metrics io.Writer
}

// Request is a direct invocation: {"as_of": "2011-12-10T00:00:00Z"}; an
// empty object trains as of now.
type Request struct {
	AsOf string `json:"as_of"`
}

// scheduled is the part of an EventBridge scheduled event the job reads.
type scheduled struct {
	Source string `json:"source"`
	Time   string `json:"time"`
}

// AsOf decides the training time of an invocation payload: the as_of of a
// direct invocation, the scheduled time of an EventBridge event (so that
// EventBridge's retry of one night trains the same model again), or now.
// Any other payload is an Invalid error.
func AsOf(payload []byte, now time.Time) (time.Time, error) {
	var ev scheduled
	if json.Unmarshal(payload, &ev) == nil && ev.Source == "aws.events" {
		t, err := time.Parse(time.RFC3339, ev.Time)
		if err != nil {
			return time.Time{}, errs.E(errs.Invalid, "scheduled event without a valid time")
		}
		return t.UTC(), nil
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(payload)) > 0 {
		if err := dec.Decode(&req); err != nil {
			return time.Time{}, errs.E(errs.Invalid, `the payload must be {"as_of": "<RFC 3339 time>"} or a scheduled event`)
		}
	}
	if req.AsOf == "" {
		return now.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, req.AsOf)
	if err != nil {
		return time.Time{}, errs.E(errs.Invalid, "as_of must be an RFC 3339 time such as 2011-12-10T00:00:00Z")
	}
	return t.UTC(), nil
}

// Handle is the Lambda handler: it trains as of the payload's time (see
// AsOf) and returns the run record.
func (j *Job) Handle(ctx context.Context, payload json.RawMessage) (recommendations.Run, error) {
	asOf, err := AsOf(payload, j.Now())
	if err != nil {
		j.Log.ErrorContext(ctx, "training not started", "error", err.Error())
		return recommendations.Run{}, err
	}
	run, err := j.Run(ctx, asOf)
	if err != nil {
		j.Log.ErrorContext(ctx, "training failed", "asOf", asOf, "error", err.Error())
		return run, err
	}
	return run, nil
}

// Run trains as of asOf with the tuned defaults (recommendations.DefaultTrainConfig)
// and replaces the stored model. Running it again with the same asOf
// writes the same lists: training is deterministic, every list is written
// whole, and lists of items that dropped out are deleted.
func (j *Job) Run(ctx context.Context, asOf time.Time) (recommendations.Run, error) {
	start := j.Now()
	run := recommendations.Run{AsOf: asOf, StartedAt: start.UTC()}
	interactions, err := j.Store.Interactions(ctx)
	if err != nil {
		return run, fmt.Errorf("read history: %w", err)
	}
	attrs, listed, err := j.Store.Catalog(ctx)
	if err != nil {
		return run, fmt.Errorf("read catalogue: %w", err)
	}
	run.Interactions, run.Catalog = len(interactions), len(attrs)
	loaded := j.Now()

	cfg := recommendations.DefaultTrainConfig(asOf)
	model, err := recommendations.Train(interactions, attrs, cfg)
	if errors.Is(err, recommendations.ErrNoData) {
		// Nothing to learn from: an empty model still clears every old list.
		model = &recommendations.Model{AsOf: asOf, Items: map[string]recommendations.ItemModel{},
			Popular: recommendations.Popularity(nil, attrs, asOf, cfg.PopularWindows, cfg.PopularLimit, cfg.EventWeights)}
	} else if err != nil {
		return run, fmt.Errorf("train: %w", err)
	}
	trained := j.Now()

	run.Items = len(model.Items)
	for _, id := range listed {
		if _, ok := model.Items[id]; !ok {
			run.Removed++
		}
	}
	if run.Pairs, err = j.Store.WriteNeighbours(ctx, model, attrs, listed); err != nil {
		return run, fmt.Errorf("write neighbour lists: %w", err)
	}
	if err := j.Store.WritePopular(ctx, model.Popular, attrs, asOf); err != nil {
		return run, fmt.Errorf("write popularity lists: %w", err)
	}
	run.PopularLists = len(model.Popular)
	run.Duration = j.Now().Sub(start)
	if err := j.Store.PutRun(ctx, run); err != nil {
		return run, err
	}
	run.DurationMS = run.Duration.Milliseconds()
	j.Log.InfoContext(ctx, "training finished", "asOf", asOf, "interactions", run.Interactions, "catalogItems", run.Catalog,
		"items", run.Items, "pairs", run.Pairs, "popularLists", run.PopularLists, "staleRemoved", run.Removed,
		"loadMs", loaded.Sub(start).Milliseconds(), "trainMs", trained.Sub(loaded).Milliseconds(), "durationMs", run.DurationMS)
	if j.Metrics != nil {
		_ = obs.EmitMetrics(j.Metrics, j.Now(), map[string]string{"Function": "train"},
			obs.Metric{Name: "TrainedItems", Unit: "Count", Value: float64(run.Items)},
			obs.Metric{Name: "NeighbourPairs", Unit: "Count", Value: float64(run.Pairs)},
			obs.Metric{Name: "TrainingDuration", Unit: "Milliseconds", Value: float64(run.DurationMS)})
	}
	return run, nil
}
