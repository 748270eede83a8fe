// Package catalogapi serves /v1/items: single and batch upserts, reads and
// deletes of catalog items. It holds no business rules of its own.
package edge

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// Store is the storage the handlers need.
type Store interface {
	Get(ctx context.Context, itemID string) (catalog.Item, error)
	Put(ctx context.Context, it catalog.Item) (catalog.Item, bool, error)
	Delete(ctx context.Context, itemID string) error
}

// Body limits: one item, and a batch of catalog.MaxBatch items.
const (
	MaxItemBody  = 16 << 10
	MaxBatchBody = 4 << 20
)

// batchWorkers bounds concurrent writes of one batch, keeping a 1000-item
// batch well inside the function timeout without bursting the table.
const batchWorkers = 16

// API holds the handlers' dependencies.
type API struct {
	Store Store
	Now   func() time.Time
}

// Register adds the routes to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("PUT /v1/items/{id}", a.put)
	r.Handle("GET /v1/items/{id}", a.get)
	r.Handle("DELETE /v1/items/{id}", a.delete)
	r.Handle("POST /v1/items:batch", a.batch)
}

func (a *API) get(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	it, err := a.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, it.ToView()), nil
}

func (a *API) put(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	var in catalog.Input
	if err := r.DecodeJSON(&in, MaxItemBody); err != nil {
		return nil, err
	}
	it, err := catalog.New(id, in, a.Now().UTC(), "")
	if err != nil {
		return nil, err
	}
	stored, created, err := a.Store.Put(ctx, it)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return apigw.JSON(status, stored.ToView()), nil
}

func (a *API) delete(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	if err := a.Store.Delete(ctx, id); err != nil {
		return nil, err
	}
	return apigw.NoContent(), nil
}

// BatchRequest is the body of POST /v1/items:batch.
type BatchRequest struct {
	Items []catalog.BatchInput `json:"items"`
}

// Outcome is what happened to one entry of a batch.
type Outcome struct {
	Index  int               `json:"index"`
	ItemID string            `json:"item_id"`
	Status string            `json:"status"` // created, updated, rejected, failed
	Detail string            `json:"detail,omitempty"`
	Errors []errs.FieldError `json:"errors,omitempty"`
}

// BatchResponse reports every entry so a client resends only what failed.
type BatchResponse struct {
	Created  int       `json:"created"`
	Updated  int       `json:"updated"`
	Rejected int       `json:"rejected"`
	Failed   int       `json:"failed"`
	Results  []Outcome `json:"results"`
}

// batch validates every entry, writes the valid ones, and answers 200 with
// a per-entry outcome. Invalid entries ("rejected") never stop valid ones;
// entries whose write failed ("failed") can be retried as they are.
func (a *API) batch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var req BatchRequest
	if err := r.DecodeJSON(&req, MaxBatchBody); err != nil {
		return nil, err
	}
	switch {
	case req.Items == nil:
		var v errs.Validator
		v.Add("items", "is required: an array of 1 to %d items", catalog.MaxBatch)
		return nil, v.Err()
	case len(req.Items) == 0:
		var v errs.Validator
		v.Add("items", "must hold 1 to %d items", catalog.MaxBatch)
		return nil, v.Err()
	case len(req.Items) > catalog.MaxBatch:
		return nil, errs.E(errs.TooLarge, fmt.Sprintf("a batch holds at most %d items; got %d", catalog.MaxBatch, len(req.Items)))
	}
	now := a.Now().UTC()
	out := BatchResponse{Results: make([]Outcome, len(req.Items))}
	valid := make([]catalog.Item, len(req.Items))
	ok := make([]bool, len(req.Items))
	seen := map[string]int{}
	for i, in := range req.Items {
		res := &out.Results[i]
		res.Index, res.ItemID = i, in.ItemID
		it, err := catalog.New(in.ItemID, in.Input, now, fmt.Sprintf("items[%d].", i))
		if first, dup := seen[in.ItemID]; dup && err == nil {
			err = errs.E(errs.Invalid, fmt.Sprintf("item_id repeats entry %d of this batch", first))
		}
		if err != nil {
			res.Status = "rejected"
			res.Detail, res.Errors = describe(err)
			continue
		}
		seen[in.ItemID] = i
		valid[i], ok[i] = it, true
	}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < batchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, created, err := a.Store.Put(ctx, valid[i])
				res := &out.Results[i]
				switch {
				case err != nil:
					res.Status, res.Detail = "failed", "not stored; retry this entry"
				case created:
					res.Status = "created"
				default:
					res.Status = "updated"
				}
			}
		}()
	}
	for i := range req.Items {
		if ok[i] {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()
	for _, res := range out.Results {
		switch res.Status {
		case "created":
			out.Created++
		case "updated":
			out.Updated++
		case "rejected":
			out.Rejected++
		case "failed":
			out.Failed++
		}
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func describe(err error) (string, []errs.FieldError) {
	p := apigw.ProblemFor(err)
	return p.Detail, p.Errors
}
