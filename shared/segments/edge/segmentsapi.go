// Package segmentsapi serves /v1/segments: the latest nightly run's
// segments, a segment's members page by page, and run records. Answers
// carry customer ids and scores only, never personal data, so a key with
// segments:read and no pii scope can use every route. It holds no
// business rules of its own.
package edge

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

// Runs is the run storage the handlers need.
type Runs interface {
	// Latest returns the latest complete run (NotFound before the first).
	Latest(ctx context.Context) (service.Record, error)
	// Run returns a run by id (NotFound when absent).
	Run(ctx context.Context, runID string) (service.Record, error)
}

// Members is the membership storage the handlers need.
type Members interface {
	// Members returns a page of a segment of a run, by index query.
	Members(ctx context.Context, runID, slug string, limit int, cursor string) (segmentsdb.MemberPage, error)
}

// Page sizes of member listings.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// API holds the handlers' dependencies.
type API struct {
	Runs    Runs
	Members Members
}

// Register adds the routes to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("GET /v1/segments", a.list)
	r.Handle("GET /v1/segments/{name}/customers", a.members)
	r.Handle("GET /v1/segments/runs/{id}", a.run)
}

// Overview is the answer of GET /v1/segments.
type Overview struct {
	RunID     string                   `json:"run_id"`
	AsOf      string                   `json:"as_of"`
	Currency  string                   `json:"currency"`
	Customers int64                    `json:"customers"`
	Segments  []service.SegmentSummary `json:"segments"`
	Clusters  []Cluster                `json:"clusters"`
}

// Cluster is one behavioural cluster of a run.
type Cluster struct {
	Cluster     int    `json:"cluster"`
	Customers   int64  `json:"customers"`
	Description string `json:"description"`
}

func (a *API) list(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	rec, err := a.Runs.Latest(ctx)
	if err != nil {
		return nil, err
	}
	out := Overview{RunID: rec.RunID, AsOf: rec.AsOf, Currency: rec.Currency, Customers: rec.Customers, Segments: rec.Segments,
		Clusters: []Cluster{}}
	cl := rec.Model.Clusters
	for i, d := range cl.Descriptions {
		c := Cluster{Cluster: i, Description: d}
		if i < len(cl.Sizes) {
			c.Customers = cl.Sizes[i]
		}
		out.Clusters = append(out.Clusters, c)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// MembersPage is the answer of GET /v1/segments/{name}/customers.
type MembersPage struct {
	RunID      string              `json:"run_id"`
	Segment    string              `json:"segment"`
	Customers  []segmentsdb.Member `json:"customers"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

func (a *API) members(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	slug := r.PathParam("name")
	var v errs.Validator
	if _, ok := service.SegmentBySlug(slug); !ok {
		return nil, errs.E(errs.NotFound, fmt.Sprintf("there is no segment %q; GET /v1/segments lists them", slug))
	}
	limit := DefaultLimit
	if s := r.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= MaxLimit, "limit", "must be a whole number from 1 to %d", MaxLimit)
		limit = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := a.Runs.Latest(ctx)
	if err != nil {
		return nil, err
	}
	page, err := a.Members.Members(ctx, rec.RunID, slug, limit, r.Query("cursor"))
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, MembersPage{RunID: rec.RunID, Segment: slug, Customers: page.Members, NextCursor: page.Next}), nil
}

func (a *API) run(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if _, err := service.ParseAsOf(id); err != nil || service.RunID(mustAsOf(id)) != id {
		return nil, errs.E(errs.NotFound, fmt.Sprintf("there is no run %q; run ids are dates, YYYY-MM-DD", id))
	}
	rec, err := a.Runs.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, rec), nil
}

func mustAsOf(s string) time.Time {
	t, _ := service.ParseAsOf(s)
	return t
}
