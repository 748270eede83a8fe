//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"tailor/shared/local/dataset"
	"tailor/shared/local/dataset/datasettest"
	"tailor/shared/local/replay"
	"tailor/shared/segments"
)

// TestSegmentCDNOWThroughTheAPI: the CDNOW sample's calibration purchases
// (up to 1997-09-30), sent as USD purchase events through POST /v1/events,
// then ScoreFunction invoked as of 1997-09-30 with the default
// configuration. The job picks USD as the dominant currency and, counting
// the purchases of the as-of day and measuring T to it as `tailor segment`
// does, reproduces the published BG/NBD (r 0.243, α 4.414, a 0.793,
// b 2.426, in weeks) and Gamma-Gamma (p 6.25, q 3.74, v 15.44, in dollars)
// estimates within 1%, and agrees with `tailor segment --as-of 1997-09-30`
// on the same file to six significant digits.
func TestSegmentCDNOWThroughTheAPI(t *testing.T) {
	s := startStack(t)
	start := time.Now()
	f, err := os.Open(datasettest.Path(t, "cdnow", "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dataset.ReadCDNOWSample(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	end, _ := dataset.ParseDate("1997-09-30")
	var evs []json.RawMessage
	customers, onAsOfDay := map[int]bool{}, 0
	for i, p := range ps {
		if p.Date > end {
			continue
		}
		if p.Date == end {
			onAsOfDay++
		}
		customers[p.SampleID] = true
		// One event per transaction; the purchase models count days, and
		// the aggregates sum a day's amounts.
		ev, _ := json.Marshal(map[string]any{"event_id": fmt.Sprintf("cdnow-%d", i), "type": "purchase",
			"customer_id": fmt.Sprintf("cdnow-%04d", p.SampleID), "item_id": "cd", "quantity": 1,
			"price": fmt.Sprintf("%d.%02d", p.Amount/100, p.Amount%100), "currency": "USD", "order_id": fmt.Sprintf("o-%d", i),
			"timestamp": p.Date.Time().Add(12 * time.Hour).Format(time.RFC3339)})
		evs = append(evs, ev)
	}
	if len(evs) != 4960 || len(customers) != 2357 || onAsOfDay == 0 {
		t.Fatalf("%d calibration purchases by %d customers, %d on the as-of day; want 4,960 by 2,357, some on 1997-09-30",
			len(evs), len(customers), onAsOfDay)
	}
	// In batches of 500 with four requests at a time, as tailor load sends.
	l := &replay.Loader{Send: &replay.HTTP{Base: s.URL, Key: s.AdminKey, Client: s.HTTP}, Batch: 500, Senders: 4}
	sent := replay.Report{Rejected: map[string]int{}}
	// A duplicate is stored too: an event resent after its first answer
	// was lost under load (a transaction that committed as its deadline
	// passed).
	if err := l.Events(context.Background(), evs, &sent); err != nil || sent.Accepted+sent.Duplicate != len(evs) {
		t.Fatalf("sent %d events: %d accepted, %d duplicate, rejected %v, %d failed: %v",
			len(evs), sent.Accepted, sent.Duplicate, sent.Rejected, sent.Failed, err)
	}
	loaded := time.Now()

	resp := s.invokeFunction("ScoreFunction", []byte(`{"as_of": "1997-09-30"}`))
	rec := resp.Record
	scored := time.Now()
	if resp.RunID != "1997-09-30" || rec.Status != "complete" || rec.AsOf != "1997-09-30" {
		t.Fatalf("run %s as of %s: %s", resp.RunID, rec.AsOf, rec.Status)
	}
	if rec.Currency != "USD" || rec.CurrencyChoice != segments.CurrencyDominant || rec.Config.Currency != segments.AutoCurrency ||
		len(rec.CurrencyCustomers) != 1 || rec.CurrencyCustomers["USD"] != 2357 {
		t.Fatalf("currency %q chosen %q (configured %q), customers per currency %v; want USD, dominant, auto, 2,357 in USD",
			rec.Currency, rec.CurrencyChoice, rec.Config.Currency, rec.CurrencyCustomers)
	}
	if rec.Customers != 2357 || rec.SkippedOtherCurrency != 0 || rec.SkippedNoPurchase != 0 || rec.Written != 2357 ||
		rec.Model.TimeUnit != segments.Week || rec.Model.GammaGamma.Customers != 946 {
		t.Fatalf("scored %d, skipped %d other currency and %d without purchase, written %d, unit %s, Gamma-Gamma on %d",
			rec.Customers, rec.SkippedOtherCurrency, rec.SkippedNoPurchase, rec.Written, rec.Model.TimeUnit, rec.Model.GammaGamma.Customers)
	}
	bg, gg := rec.Model.BGNBD, rec.Model.GammaGamma
	for _, c := range []struct {
		name           string
		got, published float64
	}{
		{"r", bg.R, 0.243}, {"alpha", bg.Alpha, 4.414}, {"a", bg.A, 0.793}, {"b", bg.B, 2.426},
		{"p", gg.P, 6.25}, {"q", gg.Q, 3.74}, {"v", gg.V, 15.44},
	} {
		if math.Abs(c.got-c.published) > 0.01*c.published {
			t.Errorf("%s = %.5g, published %v (more than 1%% off)", c.name, c.got, c.published)
		}
	}

	// The offline command on the same purchases: one meaning of "as of".
	var out bytes.Buffer
	if err := segmentMain(context.Background(), []string{"--transactions", cdnowCSV(t), "--as-of", "1997-09-30", "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var cli segments.RunRecord
	if err := json.Unmarshal(out.Bytes(), &cli); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		job, cli float64
	}{
		{"r", bg.R, cli.BGNBD.R}, {"alpha", bg.Alpha, cli.BGNBD.Alpha}, {"a", bg.A, cli.BGNBD.A}, {"b", bg.B, cli.BGNBD.B},
		{"log-likelihood", bg.LogLikelihood, cli.BGNBD.LogLikelihood},
		{"p", gg.P, cli.GammaGamma.P}, {"q", gg.Q, cli.GammaGamma.Q}, {"v", gg.V, cli.GammaGamma.V},
	} {
		if math.Abs(c.job-c.cli) > 1e-6*math.Abs(c.cli) {
			t.Errorf("%s: job %.9g, tailor segment %.9g", c.name, c.job, c.cli)
		}
	}
	t.Logf("BG/NBD r %.4f alpha %.4f a %.4f b %.4f LL %.2f; Gamma-Gamma p %.4f q %.4f v %.4f; %d events sent in %s, scored in %s",
		bg.R, bg.Alpha, bg.A, bg.B, bg.LogLikelihood, gg.P, gg.Q, gg.V, len(evs),
		loaded.Sub(start).Round(time.Millisecond), scored.Sub(loaded).Round(time.Millisecond))
}
