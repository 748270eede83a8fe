// Package edge serves /v1/segments: the latest nightly run's segments, a
// segment's members page by page, and run reports. Answers carry customer
// ids and scores only, never personal data, so a key with segments:read
// and no pii scope can use every route. It decodes and validates the
// request, calls service.Query and encodes the answer; it holds no
// business rules of its own.
package edge

import (
	"context"
	"net/http"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
	"tailor/shared/segments/service"
)

// Page sizes of member listings.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// API holds the handlers' dependencies.
type API struct {
	Query *service.Query
}

// Register adds the routes to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("GET /v1/segments", a.list)
	r.Handle("GET /v1/segments/{name}/customers", a.members)
	r.Handle("GET /v1/segments/runs/{id}", a.run)
	r.Handle("GET /v1/segments/backtest", a.backtest)
}

func (a *API) backtest(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	if len(r.Event.QueryStringParameters) > 0 {
		return nil, errs.E(errs.Invalid, "this route takes no query parameters")
	}
	res, err := a.Query.LatestBacktest(ctx)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, res), nil
}

// Overview is the answer of GET /v1/segments.
type Overview struct {
	RunID     string                   `json:"run_id"`
	AsOf      string                   `json:"as_of"`
	Currency  string                   `json:"currency"`
	Customers int64                    `json:"customers"`
	Segments  []segments.SegmentReport `json:"segments"`
	Clusters  []Cluster                `json:"clusters"`
}

// Cluster is one behavioural cluster of a run.
type Cluster struct {
	Cluster     int    `json:"cluster"`
	Customers   int64  `json:"customers"`
	Description string `json:"description"`
}

func (a *API) list(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	rec, err := a.Query.Latest(ctx)
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
	RunID      string            `json:"run_id"`
	Segment    string            `json:"segment"`
	Customers  []segments.Member `json:"customers"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func (a *API) members(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var v errs.Validator
	limit := r.Limit(&v, DefaultLimit, MaxLimit)
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.Query.LatestMembers(ctx, r.PathParam("name"), limit, r.Query("cursor"))
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, MembersPage{RunID: page.RunID, Segment: page.Segment, Customers: page.Members, NextCursor: page.Next}), nil
}

func (a *API) run(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	rec, err := a.Query.Run(ctx, r.PathParam("id"))
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, rec), nil
}
