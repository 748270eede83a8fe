package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"tailor/shared/local/dataset"
	"tailor/shared/local/eval"
	"tailor/shared/recommendations"
)

func init() {
	register("evaluate", "offline ranking evaluation of the recommender against baselines", runEvaluate)
}

func runEvaluate(ctx context.Context, args []string) error {
	return evaluateMain(ctx, args, os.Stdout)
}

// evalReport is the --json output.
type evalReport struct {
	Split      string                  `json:"split"`
	Users      int                     `json:"users"`
	Algorithms map[string]eval.Metrics `json:"algorithms"`
	// order and wall keep the table's row order and timings; not in JSON.
	order []string
	wall  map[string]time.Duration
}

// evaluateMain is the command without the process around it, so a test can
// run it and read what it prints.
func evaluateMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	path := fs.String("data", "", "data file (.gz allowed)")
	format := fs.String("format", "online-retail", "data format: online-retail or interactions (user,item,timestamp[,weight])")
	splitKind := fs.String("split", "time", "split: time or stratified")
	cutoff := fs.String("cutoff", "", "time split: first test day YYYY-MM-DD (UTC)")
	ratio := fs.Float64("ratio", 0.75, "stratified split: share of each user's interactions used for training")
	seed := fs.Uint64("seed", 1, "stratified split: random seed")
	keepSeen := fs.Bool("keep-seen", false, "keep items the user saw in training as candidates (adds the repeat baseline; tailor runs in mixed mode)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var problems []error
	if *path == "" {
		problems = append(problems, errors.New("--data is required"))
	}
	if *format != "online-retail" && *format != "interactions" {
		problems = append(problems, fmt.Errorf("--format %q: want online-retail or interactions", *format))
	}
	var cut time.Time
	switch *splitKind {
	case "time":
		var err error
		if cut, err = time.Parse(time.DateOnly, *cutoff); err != nil {
			problems = append(problems, fmt.Errorf("--cutoff %q: want YYYY-MM-DD", *cutoff))
		}
	case "stratified":
		if !(*ratio > 0 && *ratio < 1) {
			problems = append(problems, fmt.Errorf("--ratio %v: want a value in (0, 1)", *ratio))
		}
	default:
		problems = append(problems, fmt.Errorf("--split %q: want time or stratified", *splitKind))
	}
	if err := errors.Join(problems...); err != nil {
		return err
	}
	data, err := loadInteractions(*path, *format)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var split eval.Split
	desc := ""
	if *splitKind == "time" {
		split, err = eval.TimeSplit(data, cut, *keepSeen)
		desc = "time " + *cutoff
	} else {
		split, err = eval.StratifiedSplit(data, *ratio, *seed, *keepSeen)
		desc = fmt.Sprintf("stratified %g seed %d", *ratio, *seed)
	}
	if err != nil {
		return err
	}
	if *keepSeen {
		desc += " keep-seen"
	}
	rep, err := compare(ctx, split, desc)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "split: %s, users evaluated: %d, training rows: %d\n\n", rep.Split, rep.Users, len(split.Train))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "algorithm\tPrecision@10\tRecall@10\tnDCG@10\tMAP@10\tHitRate@10\tcoverage\tusers\twall\t")
	for _, name := range rep.order {
		m := rep.Algorithms[name]
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%d\t%s\t\n", name, m.Precision, m.Recall, m.NDCG, m.MAP, m.HitRate, m.Coverage, m.Users, rep.wall[name].Round(time.Millisecond))
	}
	return tw.Flush()
}

// compare trains and evaluates every algorithm on the split. Tailor uses
// the default (tuned) settings, in mixed mode when seen items are kept.
func compare(ctx context.Context, split eval.Split, desc string) (evalReport, error) {
	const k = 10
	rep := evalReport{Split: desc, Users: len(split.Users), Algorithms: map[string]eval.Metrics{}, wall: map[string]time.Duration{}}
	mode := recommendations.Discover
	if split.KeepSeen {
		mode = recommendations.Mixed
	}
	builders := []struct {
		name  string
		build func() (eval.Recommender, error)
	}{
		{"tailor", func() (eval.Recommender, error) {
			return eval.Tailor(split, recommendations.DefaultTrainConfig(split.AsOf), recommendations.DefaultScorer(), mode)
		}},
		{"popularity", func() (eval.Recommender, error) { return eval.Popularity(split), nil }},
		{"itemknn", func() (eval.Recommender, error) { return eval.ItemKNN(split, 50) }},
	}
	if split.KeepSeen {
		builders = append(builders, struct {
			name  string
			build func() (eval.Recommender, error)
		}{"repeat", func() (eval.Recommender, error) { return eval.Repeat(split), nil }})
	}
	for _, b := range builders {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		start := time.Now()
		rec, err := b.build()
		if err != nil {
			return rep, fmt.Errorf("%s: %w", b.name, err)
		}
		rep.Algorithms[b.name] = eval.Evaluate(split, rec, k)
		rep.wall[b.name] = time.Since(start)
		rep.order = append(rep.order, b.name)
	}
	return rep, nil
}

// loadInteractions reads a data file into training interactions. Online
// Retail purchases and refunds become purchase and refund events (skipped
// rows are dropped); a generic interactions row becomes a purchase whose
// weight is the row's weight.
func loadInteractions(path, format string) ([]recommendations.Interaction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []recommendations.Interaction
	if format == "interactions" {
		err = dataset.ReadInteractions(f, func(it dataset.Interaction) error {
			out = append(out, recommendations.Interaction{CustomerID: it.User, ItemID: it.Item, Type: recommendations.Purchase, Time: it.Time, Quantity: 1, Weight: it.Weight})
			return nil
		})
	} else {
		err = dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
			if in, ok := retailInteraction(r); ok {
				out = append(out, in)
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// retailInteraction maps a classified Online Retail row to an interaction.
func retailInteraction(r dataset.RetailRecord) (recommendations.Interaction, bool) {
	in := recommendations.Interaction{CustomerID: r.CustomerID, ItemID: r.StockCode, Time: r.Time}
	switch r.Kind {
	case dataset.RowPurchase:
		in.Type, in.Quantity = recommendations.Purchase, r.Quantity
	case dataset.RowRefund:
		in.Type, in.Quantity = recommendations.Refund, -r.Quantity
	default:
		return in, false
	}
	return in, true
}
