package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"tailor/shared/local/dataset/datasettest"
	"testing"
)

func runEvaluateJSON(t *testing.T, args ...string) evalReport {
	t.Helper()
	var out bytes.Buffer
	if err := evaluateMain(context.Background(), append(args, "--json"), &out); err != nil {
		t.Fatal(err)
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	return rep
}

// TestEvaluateQualityBar pins the recommender's quality on Online Retail
// with the time split of docs/evaluation.md.
func TestEvaluateQualityBar(t *testing.T) {
	data := datasettest.Path(t, "online_retail.csv.gz")
	base := []string{"--data", data, "--format", "online-retail", "--split", "time", "--cutoff", "2011-09-01"}

	rep := runEvaluateJSON(t, base...)
	tailor, pop, knn := rep.Algorithms["tailor"].NDCG, rep.Algorithms["popularity"].NDCG, rep.Algorithms["itemknn"].NDCG
	t.Logf("default protocol: users %d, nDCG@10 tailor %.4f, popularity %.4f, itemknn %.4f", rep.Users, tailor, pop, knn)
	if rep.Users != 1947 {
		t.Errorf("users evaluated = %d, want 1947", rep.Users)
	}
	if tailor < 0.114 || tailor < 2*pop {
		t.Errorf("tailor nDCG@10 %.4f: want at least 0.114 and 2 × popularity %.4f", tailor, pop)
	}
	if tailor <= knn {
		t.Errorf("tailor nDCG@10 %.4f <= itemknn %.4f", tailor, knn)
	}

	rep = runEvaluateJSON(t, append(base, "--keep-seen")...)
	tailor, rpt := rep.Algorithms["tailor"].NDCG, rep.Algorithms["repeat"].NDCG
	t.Logf("keep-seen: nDCG@10 tailor (mixed) %.4f, repeat %.4f", tailor, rpt)
	if tailor < 0.400 || tailor <= rpt {
		t.Errorf("keep-seen: tailor nDCG@10 %.4f: want at least 0.400 and above repeat %.4f", tailor, rpt)
	}
}

func TestEvaluateInteractionsTableAndStratified(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("user,item,timestamp\n")
	// Two taste groups: users 0-9 buy a b c d, users 10-19 buy w x y z.
	for u := range 20 {
		items := "abcd"
		if u >= 10 {
			items = "wxyz"
		}
		for d, it := range items {
			csv.WriteString("u" + string(rune('a'+u)) + "," + string(it) + ",2011-01-0" + string(rune('1'+d)) + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "interactions.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := evaluateMain(context.Background(), []string{"--data", path, "--format", "interactions", "--split", "stratified", "--ratio", "0.5", "--seed", "7"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stratified 0.5 seed 7", "tailor", "popularity", "itemknn", "nDCG@10", "MAP@10", "coverage"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	rep := runEvaluateJSON(t, "--data", path, "--format", "interactions", "--split", "stratified", "--ratio", "0.5", "--seed", "7")
	// Every user's held-out items are the other half of their group's
	// items, which item-to-item similarity finds: hit rate 1.
	if rep.Users != 20 || rep.Algorithms["tailor"].HitRate != 1 {
		t.Errorf("report = %+v", rep)
	}
}

func TestEvaluateFlagErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"--data", "x", "--split", "time"},
		{"--data", "x", "--split", "stratified", "--ratio", "1.5"},
		{"--data", "x", "--format", "parquet", "--cutoff", "2011-01-01"},
		{"--data", "x", "--split", "random"},
	}
	for _, args := range tests {
		if err := evaluateMain(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
