package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"tailor/shared/local/dataset/datasettest"
	"testing"

	"tailor/shared/local/dataset"
	"tailor/shared/segments"
)

// cdnowCSV writes CDNOW_sample.txt as a customer_id,date,amount CSV.
func cdnowCSV(t *testing.T) string {
	t.Helper()
	f, err := os.Open(datasettest.Path(t, "cdnow", "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := dataset.ReadCDNOWSample(f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("customer_id,date,amount\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%d,%s,%d.%02d\n", p.SampleID, p.Date, p.Amount/100, p.Amount%100)
	}
	path := filepath.Join(t.TempDir(), "cdnow.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSegmentCommandReproducesCDNOW(t *testing.T) {
	path := cdnowCSV(t)
	var out bytes.Buffer
	err := segmentMain(context.Background(), []string{"--transactions", path, "--as-of", "1997-09-30", "--unit", "week", "--json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var rec segments.RunRecord
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("output is not a run record: %v\n%s", err, out.String())
	}
	if rec.Customers != 2357 || rec.TimeUnit != segments.Week || rec.GammaGamma.Customers != 946 {
		t.Errorf("customers %d, unit %s, Gamma-Gamma customers %d", rec.Customers, rec.TimeUnit, rec.GammaGamma.Customers)
	}
	checks := []struct {
		name           string
		got, published float64
	}{
		{"r", rec.BGNBD.R, 0.243}, {"alpha", rec.BGNBD.Alpha, 4.414}, {"a", rec.BGNBD.A, 0.793}, {"b", rec.BGNBD.B, 2.426},
		{"log-likelihood", rec.BGNBD.LogLikelihood, -9582.4},
		{"p", rec.GammaGamma.P, 6.25}, {"q", rec.GammaGamma.Q, 3.74}, {"v", rec.GammaGamma.V, 15.44},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.published) > 0.01*math.Abs(c.published) {
			t.Errorf("%s = %.5g, published %v (more than 1%% off)", c.name, c.got, c.published)
		}
	}
	if rec.Clusters.K < 2 || rec.Clusters.K > 8 || len(rec.Clusters.Descriptions) != rec.Clusters.K {
		t.Errorf("clusters: %+v", rec.Clusters)
	}
	if rec.CLV.Quantiles["p50"] <= 0 || rec.CLV.Quantiles["max"] < rec.CLV.Quantiles["p90"] {
		t.Errorf("CLV distribution %+v", rec.CLV)
	}

	out.Reset()
	if err := segmentMain(context.Background(), []string{"--transactions", path, "--as-of", "1997-09-30", "--k", "4"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BG/NBD", "Champions", "k = 4", "churn risk"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSegmentCommandFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "--transactions is required"},
		{"bad date", []string{"--transactions", "x.csv", "--as-of", "30/09/1997"}, "--as-of"},
		{"bad unit", []string{"--transactions", "x.csv", "--as-of", "1997-09-30", "--unit", "month"}, "--unit"},
		{"no file", []string{"--transactions", filepath.Join(t.TempDir(), "none.csv"), "--as-of", "1997-09-30"}, "no such file"},
	}
	for _, tt := range tests {
		err := segmentMain(context.Background(), tt.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
}
