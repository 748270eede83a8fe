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

	"tailor/shared/local/dataset"
	"tailor/shared/segments"
)

func init() {
	register("segment", "score a transactions CSV offline: RFM, clusters, BG/NBD, Gamma-Gamma, CLV", runSegment)
}

func runSegment(ctx context.Context, args []string) error {
	return segmentMain(ctx, args, os.Stdout)
}

// segmentMain is the command without the process around it, so a test can
// run it on a file and read what it prints.
func segmentMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("segment", flag.ContinueOnError)
	path := fs.String("transactions", "", "CSV with header customer_id,date,amount (.gz allowed)")
	asOf := fs.String("as-of", "", "run date YYYY-MM-DD; purchases on this day count")
	unit := fs.String("unit", "week", "time unit of the purchase models: day or week")
	k := fs.Int("k", 0, "number of clusters; 0 chooses k in --k-min..--k-max by silhouette")
	kMin := fs.Int("k-min", 2, "smallest k to try")
	kMax := fs.Int("k-max", 8, "largest k to try")
	discount := fs.Float64("discount", 0.01, "CLV discount rate per month")
	seed := fs.Uint64("seed", 1, "seed for k-means++ and the silhouette sample")
	asJSON := fs.Bool("json", false, "print the run record as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var missing []error
	if *path == "" {
		missing = append(missing, errors.New("--transactions is required"))
	}
	if *asOf == "" {
		missing = append(missing, errors.New("--as-of is required"))
	}
	if err := errors.Join(missing...); err != nil {
		return err
	}
	end, err := dataset.ParseDate(*asOf)
	if err != nil {
		return fmt.Errorf("--as-of: %w", err)
	}
	u := segments.TimeUnit(*unit)
	if u.Days() == 0 {
		return fmt.Errorf("--unit %q: want day or week", *unit)
	}
	f, err := dataset.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	txs, err := dataset.ReadTransactions(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	km := segments.KMeansOptions{K: *k, KMin: *kMin, KMax: *kMax, Seed: *seed}
	rec, _, err := segments.Run(customersFrom(dataset.Summarize(txs, end)), segments.RunOptions{
		AsOf: end.String(), Unit: u, KMeans: km, MonthlyDiscount: *discount,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	return printRun(stdout, rec)
}

// customersFrom maps transaction summaries onto the segmentation input.
func customersFrom(sums []dataset.CustomerSummary) []segments.Customer {
	out := make([]segments.Customer, len(sums))
	for i, s := range sums {
		out[i] = segments.Customer{
			CustomerID: s.CustomerID, PurchaseDays: s.PurchaseDays,
			RecencyDays: s.RecencyDays, AgeDays: s.AgeDays,
			TotalSpend: s.TotalSpend, RepeatSpend: s.RepeatSpend,
		}
	}
	return out
}

func printRun(w io.Writer, rec segments.RunRecord) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "as of %s, %d customers, time unit %s\n\n", rec.AsOf, rec.Customers, rec.TimeUnit)
	b := rec.BGNBD
	fmt.Fprintf(tw, "BG/NBD\tr %.4f\talpha %.4f\ta %.4f\tb %.4f\tlog-likelihood %.2f\n", b.R, b.Alpha, b.A, b.B, b.LogLikelihood)
	g := rec.GammaGamma
	fmt.Fprintf(tw, "Gamma-Gamma\tp %.4f\tq %.4f\tv %.4f\t(%d repeat customers)\tmean spend %.2f\n\n", g.P, g.Q, g.V, g.Customers, g.MeanSpend)
	c := rec.RFM.Cuts
	fmt.Fprintf(tw, "RFM cut points\trecency days %v\tfrequency %v\tmonetary (minor) %v\n\n", c.Recency, c.Frequency, c.Monetary)
	fmt.Fprintln(tw, "segment\tcustomers\tshare\trevenue share\t")
	for _, s := range rec.RFM.Segments {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t\n", s.Segment, s.Customers, 100*s.Share, 100*s.RevenueShare)
	}
	cl := rec.Clusters
	fmt.Fprintf(tw, "\nclusters\tk = %d\tsilhouette %.3f\t\n", cl.K, cl.Silhouette)
	fmt.Fprintln(tw, "cluster\tcustomers\tcentroid (z: recency, frequency, monetary)\tdescription")
	for i, d := range cl.Descriptions {
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%s\n", i, cl.Sizes[i], cl.Centroids[i], d)
	}
	v := rec.CLV
	fmt.Fprintf(tw, "\n%d-month CLV (discount %.2f%%/month)\tmean %.2f\ttotal %.2f\t\n", v.Months, 100*v.MonthlyDiscount, v.Mean, v.Total)
	for _, q := range []string{"p10", "p25", "p50", "p75", "p90", "p99", "max"} {
		fmt.Fprintf(tw, "  %s\t%.2f\t\t\n", q, v.Quantiles[q])
	}
	fmt.Fprintf(tw, "\nchurn risk\tlow %d\tmedium %d\thigh %d\tvery high %d\n",
		rec.ChurnRisk["low"], rec.ChurnRisk["medium"], rec.ChurnRisk["high"], rec.ChurnRisk["very_high"])
	return tw.Flush()
}
