//go:build dynamodb

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"tailor/shared/local/apiclient"
	"tailor/shared/platform/ddb/ddbtest"
)

// TestFoundationEndToEnd follows the README's examples through tailor serve
// and the real bootstraps.
func TestFoundationEndToEnd(t *testing.T) {
	s := startStack(t)
	api, ctx := s.api(), t.Context()

	put, err := api.PutCustomerWithResponse(ctx, "c-123", nil, apiclient.CustomerReplacement{
		Profile: &apiclient.ProfileInput{Name: ptr("Ada Lovelace"), Email: ptr("ada@example.com"), Country: ptr("GB")},
		Consent: &apiclient.ConsentInput{Email: ptr(true), Sms: ptr(false)}, Tags: &[]apiclient.Tag{"newsletter"}})
	if err != nil || put.StatusCode() != 201 || put.HTTPResponse.Header.Get("ETag") != `"1"` ||
		put.HTTPResponse.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("PUT customer: %v %s", err, answered(put))
	}
	get, err := api.GetCustomerWithResponse(ctx, "c-123")
	if err != nil || get.JSON200 == nil || deref(get.JSON200.Profile.Email) != "ada@example.com" {
		t.Fatalf("GET customer: %v %s", err, answered(get))
	}
	patch, err := api.PatchCustomerWithResponse(ctx, "c-123", &apiclient.PatchCustomerParams{IfMatch: ptr(`"1"`)},
		apiclient.CustomerPatch{Profile: &apiclient.ProfilePatch{City: ptr("London")},
			Tags: &apiclient.TagsPatch{Add: &[]apiclient.Tag{"vip"}, Remove: &[]apiclient.Tag{"newsletter"}}})
	if err != nil || patch.JSON200 == nil || patch.HTTPResponse.Header.Get("ETag") != `"2"` || fmt.Sprint(patch.JSON200.Tags) != "[vip]" {
		t.Fatalf("PATCH customer: %v %s", err, answered(patch))
	}
	stale, err := api.PatchCustomerWithResponse(ctx, "c-123", &apiclient.PatchCustomerParams{IfMatch: ptr(`"1"`)},
		apiclient.CustomerPatch{Profile: &apiclient.ProfilePatch{City: ptr("Leeds")}})
	if err != nil || stale.ApplicationproblemJSON412 == nil {
		t.Fatalf("stale If-Match: %v %s", err, answered(stale))
	}
	bad, err := api.PatchCustomerWithResponse(ctx, "c-123", nil, apiclient.CustomerPatch{Profile: &apiclient.ProfilePatch{Email: ptr("not-an-address")}})
	if err != nil || bad.ApplicationproblemJSON400 == nil || bad.HTTPResponse.Header.Get("Content-Type") != "application/problem+json" ||
		bad.ApplicationproblemJSON400.Type != "/problems/invalid-request" {
		t.Fatalf("bad PATCH: %v %s", err, answered(bad))
	}
	if errs := deref(bad.ApplicationproblemJSON400.Errors); len(errs) == 0 || errs[0].Field != "profile.email" {
		t.Fatalf("bad PATCH errors: %s", answered(bad))
	}
	get, err = api.GetCustomerWithResponse(ctx, "c-123")
	if err != nil || get.JSON200 == nil || deref(get.JSON200.Profile.Email) != "ada@example.com" || get.JSON200.Version != 2 {
		t.Fatalf("a rejected PATCH changed the record: %v %s", err, answered(get))
	}
	if get, err = api.GetCustomerWithResponse(ctx, "nobody"); err != nil || get.ApplicationproblemJSON404 == nil ||
		get.ApplicationproblemJSON404.Status != 404 {
		t.Fatalf("unknown customer: %v %s", err, answered(get))
	}
	// Requests the client would not send.
	if status, _, _ := s.call("PUT", "/v1/customers/c-1", `{"profile":{}}`, "Content-Type", "text/plain"); status != 415 {
		t.Fatalf("text/plain body: %d", status)
	}
	if status, _, body := s.call("GET", "/v1/nothing-here", nil); status != 404 {
		t.Fatalf("unknown route: %d %v", status, body)
	}

	item, err := api.PutItemWithResponse(ctx, "sku-42", apiclient.ItemInput{Title: "Enamel mug, blue",
		Category: []string{"Home", "Kitchen"}, Brand: ptr("Acme"), Price: "12.50", Currency: "GBP"})
	if err != nil || item.JSON201 == nil || item.JSON201.Price != "12.50" {
		t.Fatalf("PUT item: %v %s", err, answered(item))
	}
	batch, err := api.BatchPutItemsWithResponse(ctx, apiclient.ItemBatch{Items: []apiclient.BatchItemInput{
		{ItemId: "sku-43", Title: "Tea towel", Category: []string{"Home"}, Price: "4.99", Currency: "GBP", InStock: ptr(false)},
		{ItemId: "sku 44", Title: "", Category: []string{}, Price: "1.999", Currency: "GBP"}}})
	if err != nil || batch.JSON200 == nil || batch.JSON200.Created != 1 || batch.JSON200.Rejected != 1 {
		t.Fatalf("batch: %v %s", err, answered(batch))
	}
	if got, err := api.GetItemWithResponse(ctx, "sku-43"); err != nil || got.JSON200 == nil || got.JSON200.InStock {
		t.Fatalf("GET batch item: %v %s", err, answered(got))
	}
	if del, err := api.DeleteItemWithResponse(ctx, "sku-42"); err != nil || del.StatusCode() != 204 {
		t.Fatalf("DELETE item: %v %s", err, answered(del))
	}

	// Direct invoke with a sample event, as sam local invoke -e would.
	root, _ := ddbtest.ModuleRoot()
	sample, err := os.ReadFile(filepath.Join(root, "events", "customers", "get.json"))
	if err != nil {
		t.Fatal(err)
	}
	status, _, out := s.call("POST", "/2015-03-31/functions/CustomersFunction/invocations", string(sample))
	if status != 200 || out["statusCode"] != float64(200) {
		t.Fatalf("direct invoke: %d %v", status, out)
	}

	// Overlapping requests are served by more runtime processes, none lost.
	var wg sync.WaitGroup
	codes := make(chan int, 24)
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := api.GetCustomerWithResponse(ctx, "c-123")
			if err != nil {
				t.Error(err)
				return
			}
			codes <- got.StatusCode()
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("concurrent GET: %d", c)
		}
	}
	if st, ok := s.Srv.Stats("CustomersFunction"); !ok || st.Processes < 2 {
		t.Fatalf("expected several runtime processes for concurrent requests, stats %+v", st)
	}
}
