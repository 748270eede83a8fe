// Package edge is the HTTP edge of the recommend function: it validates
// the query strings of the three recommendation routes, calls package
// service and encodes the answers. It holds no ranking rules.
package edge

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/money"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/service"
)

// API holds the handlers' dependencies.
type API struct {
	Service *service.Service
}

// Register adds the routes to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("GET /v1/customers/{id}/recommendations", a.recommendations)
	r.Handle("GET /v1/items/{id}/similar", a.similar)
	r.Handle("GET /v1/popular", a.popular)
	r.Handle("GET /v1/recommendations/runs", a.runs)
}

func (a *API) runs(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	p := newParams(r, "limit")
	limit := p.limit()
	if err := p.v.Err(); err != nil {
		return nil, err
	}
	out, err := a.Service.TrainingRuns(ctx, limit)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (a *API) recommendations(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	q, err := parseRecommendations(r)
	if err != nil {
		return nil, err
	}
	out, err := a.Service.Recommend(ctx, q)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (a *API) similar(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	q, err := parseSimilar(r)
	if err != nil {
		return nil, err
	}
	out, err := a.Service.Similar(ctx, q)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (a *API) popular(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	q, err := parsePopular(r)
	if err != nil {
		return nil, err
	}
	out, err := a.Service.Popular(ctx, q)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// params reads a query string strictly: every parameter must be one the
// route knows, so a typo (limt=5) is a 400 rather than silently ignored.
type params struct {
	r *apigw.Request
	v errs.Validator
}

func newParams(r *apigw.Request, known ...string) *params {
	p := &params{r: r}
	for _, name := range slices.Sorted(maps.Keys(r.Event.QueryStringParameters)) {
		if !slices.Contains(known, name) {
			p.v.Add(name, "unknown parameter; this route takes %s", strings.Join(known, ", "))
		}
	}
	return p
}

// has reports whether the parameter was sent at all (an empty value is
// sent, and invalid).
func (p *params) has(name string) bool {
	_, ok := p.r.Event.QueryStringParameters[name]
	return ok
}

func (p *params) limit() int {
	if !p.has("limit") {
		return service.DefaultLimit
	}
	n, err := strconv.Atoi(p.r.Query("limit"))
	if err != nil || n < 1 || n > service.MaxLimit {
		p.v.Add("limit", "must be an integer from 1 to %d", service.MaxLimit)
	}
	return n
}

func (p *params) boolean(name string) bool {
	if !p.has(name) {
		return false
	}
	switch p.r.Query(name) {
	case "true":
		return true
	case "false":
		return false
	}
	p.v.Add(name, "must be true or false")
	return false
}

// category reads a category path such as "Home" or "Home/Kitchen"
// (catalog.ValidCategory); slashes around it are ignored.
func (p *params) category() string {
	if !p.has("category") {
		return ""
	}
	c := strings.Trim(p.r.Query("category"), "/")
	if !catalog.ValidCategory(c) {
		p.v.Add("category", "must be a category path such as Home or Home/Kitchen (names joined by /, no #)")
	}
	return c
}

// price reads a decimal amount in the currency's minor units (2 digits
// unless currency says otherwise).
func (p *params) price(name string, digits int) int64 {
	if !p.has(name) {
		return 0
	}
	minor, err := money.ParseDigits(p.r.Query(name), digits)
	if err != nil || minor < 0 {
		p.v.Add(name, "must be a non-negative decimal amount such as 12.50")
		return 0
	}
	return minor
}

func parseRecommendations(r *apigw.Request) (service.Query, error) {
	p := newParams(r, "limit", "mode", "category", "exclude", "min_price", "max_price", "currency", "explain")
	q := service.Query{CustomerID: r.PathParam("id"), Mode: recommendations.Mixed}
	if err := customers.ValidateID(q.CustomerID); err != nil {
		return q, err
	}
	q.Limit = p.limit()
	if p.has("mode") {
		switch m := recommendations.Mode(r.Query("mode")); m {
		case recommendations.Discover, recommendations.BuyAgain, recommendations.Mixed:
			q.Mode = m
		default:
			p.v.Add("mode", "must be discover, buy_again or mixed")
		}
	}
	q.Category = p.category()
	if p.has("exclude") {
		for _, x := range strings.Split(r.Query("exclude"), ",") {
			switch strings.TrimSpace(x) {
			case "purchased":
				q.ExcludePurchased = true
			case "in_cart":
				q.ExcludeInCart = true
			default:
				p.v.Add("exclude", "must be a comma-separated list of purchased, in_cart")
			}
		}
	}
	if q.ExcludePurchased && q.Mode == recommendations.BuyAgain {
		p.v.Add("exclude", "purchased cannot be excluded from mode buy_again, which lists past purchases")
	}
	digits := 2
	if p.has("currency") {
		d, ok := money.Digits(r.Query("currency"))
		if !ok {
			p.v.Add("currency", "must be an ISO 4217 code such as GBP")
		}
		digits = d
	}
	q.MinPriceMinor = p.price("min_price", digits)
	q.MaxPriceMinor = p.price("max_price", digits)
	if p.has("max_price") && q.MaxPriceMinor == 0 && p.v.Len() == 0 {
		p.v.Add("max_price", "must be greater than 0")
	}
	if q.MaxPriceMinor > 0 && q.MinPriceMinor > q.MaxPriceMinor {
		p.v.Add("min_price", "must not be greater than max_price")
	}
	q.Explain = p.boolean("explain")
	return q, p.v.Err()
}

func parseSimilar(r *apigw.Request) (service.SimilarQuery, error) {
	p := newParams(r, "limit", "exclude_customer", "explain")
	q := service.SimilarQuery{ItemID: r.PathParam("id")}
	if err := catalog.ValidateID(q.ItemID); err != nil {
		return q, err
	}
	q.Limit = p.limit()
	if p.has("exclude_customer") {
		q.ExcludeCustomer = r.Query("exclude_customer")
		if customers.ValidateID(q.ExcludeCustomer) != nil {
			p.v.Add("exclude_customer", "must be a customer id")
		}
	}
	q.Explain = p.boolean("explain")
	return q, p.v.Err()
}

func parsePopular(r *apigw.Request) (service.PopularQuery, error) {
	p := newParams(r, "window", "category", "limit")
	q := service.PopularQuery{WindowDays: 7}
	if p.has("window") {
		w := r.Query("window")
		days, err := strconv.Atoi(strings.TrimSuffix(w, "d"))
		if err != nil || !strings.HasSuffix(w, "d") || !slices.Contains(service.Windows, days) {
			p.v.Add("window", "must be 1d, 7d or 30d")
		}
		q.WindowDays = days
	}
	q.Category = p.category()
	q.Limit = p.limit()
	return q, p.v.Err()
}
