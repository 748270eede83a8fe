// Package training is the nightly training job behind the train function:
// it reads what the customer records hold (recent interactions and
// purchase summaries) and the catalogue, trains the item-to-item model and
// the popularity lists with package recommendations, and stores one
// snapshot that the recommend function serves from memory. It reads and
// writes only through its Store; the model itself is package
// recommendations'.
package training

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/obs"
	"tailor/shared/recommendations"
)

// Store is the storage the job needs.
type Store interface {
	// Histories returns what every customer record holds for the
	// recommender.
	Histories(ctx context.Context) ([]recommendations.History, error)
	// LiveCatalog returns every live catalogue item (no deleted ones).
	LiveCatalog(ctx context.Context) ([]catalog.Item, error)
	// PutSnapshot stores a snapshot's bytes under ref (AsOf, Bytes and
	// SHA256 set), makes it the newest, removes snapshots older than the
	// one it replaces, and returns ref with Chunks set.
	PutSnapshot(ctx context.Context, ref recommendations.SnapshotRef, data []byte) (recommendations.SnapshotRef, error)
	// PutRun stores the run record (DurationMS from Duration), replacing
	// one with the same as_of.
	PutRun(ctx context.Context, r recommendations.Run) error
}

// ErrModelTooLarge is returned when the model would not fit the memory
// the recommend function may give it; nothing is stored then, so the
// function keeps serving the previous snapshot.
var ErrModelTooLarge = errors.New("model too large for the recommend function's memory")

// Job trains and stores the recommender's model.
type Job struct {
	Store Store
	Log   *slog.Logger
	// Now is the clock; it supplies the default as_of and the run times.
	Now func() time.Time
	// Metrics receives CloudWatch Embedded Metric Format lines; nil
	// discards them.
	Metrics io.Writer
	// MaxModelBytes bounds the model's memory in the recommend function
	// (recommendations.Snapshot.MemoryBytes); 0 is no bound.
	MaxModelBytes int64
	// Config returns the training settings for as_of;
	// recommendations.DefaultTrainConfig when nil.
	Config func(asOf time.Time) recommendations.TrainConfig
	// EvaluationDays is the holdout of the run's offline evaluation
	// (recommendations.EvaluateHoldout): a second model, trained as of
	// that many days before, is scored on what customers bought since.
	// 0 runs none.
	EvaluationDays int
}

// EvaluationK is the list length the nightly evaluation scores.
const EvaluationK = 10

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

// Run trains as of asOf and stores the snapshot the recommend function
// serves. Running it again with the same asOf on the same data stores the
// same snapshot: training and encoding are deterministic.
func (j *Job) Run(ctx context.Context, asOf time.Time) (recommendations.Run, error) {
	start := j.Now()
	run := recommendations.Run{AsOf: asOf, StartedAt: start.UTC()}
	// The catalogue is read first: a change made while the job runs is at
	// or after catalogAt, where the recommend function's change feed
	// starts.
	catalogAt := j.Now()
	items, err := j.Store.LiveCatalog(ctx)
	if err != nil {
		return run, fmt.Errorf("read catalogue: %w", err)
	}
	histories, err := j.Store.Histories(ctx)
	if err != nil {
		return run, fmt.Errorf("read customer records: %w", err)
	}
	attrs := make(map[string]recommendations.Item, len(items))
	for _, it := range items {
		attrs[it.ID] = recommendations.CatalogItem(it)
	}
	interactions := recommendations.HistoryInteractions(histories)
	run.Customers, run.Interactions, run.Catalog = len(histories), len(interactions), len(items)
	loaded := j.Now()

	cfg := recommendations.DefaultTrainConfig(asOf)
	if j.Config != nil {
		cfg = j.Config(asOf)
	}
	model, err := recommendations.Train(interactions, attrs, cfg)
	if errors.Is(err, recommendations.ErrNoData) {
		// Nothing to learn from: popularity lists of the catalogue only.
		model = &recommendations.Model{AsOf: asOf, Items: map[string]recommendations.ItemModel{},
			Popular: recommendations.Popularity(nil, attrs, asOf, cfg.PopularWindows, cfg.PopularLimit, cfg.EventWeights)}
	} else if err != nil {
		return run, fmt.Errorf("train: %w", err)
	}
	trained := j.Now()
	run.Items, run.Head, run.Lambda, run.PopularLists = len(model.Items), model.Head, cfg.EASE.Lambda, len(model.Popular)
	for _, m := range model.Items {
		run.Pairs += len(m.Neighbours)
	}

	if j.EvaluationDays > 0 {
		ev, err := recommendations.EvaluateHoldout(histories, attrs, cfg, recommendations.DefaultScorer(), asOf, j.EvaluationDays, EvaluationK)
		switch {
		case err == nil:
			run.Evaluation = &ev
		case errors.Is(err, recommendations.ErrNoData):
			j.Log.InfoContext(ctx, "no offline evaluation: no customer bought both before and during the holdout", "holdoutDays", j.EvaluationDays)
		default:
			return run, fmt.Errorf("offline evaluation: %w", err)
		}
	}
	evaluated := j.Now()

	snap := recommendations.NewSnapshot(model, cfg.EASE.Lambda, items, catalogAt)
	mem := snap.MemoryBytes()
	run.ModelBytes = mem
	if j.MaxModelBytes > 0 && mem > j.MaxModelBytes {
		return run, fmt.Errorf("%w: %d items and %d neighbour lists need %.1f MB, more than the %.1f MB allowed (half of RecommendMemorySize); raise RecommendMemorySize or lower the neighbours per item",
			ErrModelTooLarge, len(items), len(model.Items), float64(mem)/(1<<20), float64(j.MaxModelBytes)/(1<<20))
	}
	data, err := snap.MarshalBinary()
	if err != nil {
		return run, fmt.Errorf("encode snapshot: %w", err)
	}
	sum := sha256.Sum256(data)
	ref := recommendations.SnapshotRef{AsOf: asOf, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if run.Snapshot, err = j.Store.PutSnapshot(ctx, ref, data); err != nil {
		return run, fmt.Errorf("store snapshot: %w", err)
	}
	run.Duration = j.Now().Sub(start)
	if err := j.Store.PutRun(ctx, run); err != nil {
		return run, err
	}
	run.DurationMS = run.Duration.Milliseconds()
	j.Log.InfoContext(ctx, "training finished", "asOf", asOf, "customers", run.Customers, "interactions", run.Interactions,
		"catalogItems", run.Catalog, "items", run.Items, "head", run.Head, "pairs", run.Pairs, "popularLists", run.PopularLists,
		"snapshotBytes", run.Snapshot.Bytes, "modelBytes", run.ModelBytes,
		"loadMs", loaded.Sub(start).Milliseconds(), "trainMs", trained.Sub(loaded).Milliseconds(),
		"evaluateMs", evaluated.Sub(trained).Milliseconds(), "durationMs", run.DurationMS)
	if j.Metrics != nil {
		_ = obs.EmitMetrics(j.Metrics, j.Now(), map[string]string{"Function": "train"},
			obs.Metric{Name: "TrainedItems", Unit: "Count", Value: float64(run.Items)},
			obs.Metric{Name: "NeighbourPairs", Unit: "Count", Value: float64(run.Pairs)},
			obs.Metric{Name: "SnapshotBytes", Unit: "Bytes", Value: float64(run.Snapshot.Bytes)},
			obs.Metric{Name: "TrainingDuration", Unit: "Milliseconds", Value: float64(run.DurationMS)})
	}
	return run, nil
}
