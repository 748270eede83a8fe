package auth

import "sort"

// routeScopes is the one place that says which scope each HTTP API route
// needs, keyed by API Gateway's route key. A route that is not listed is
// denied to every key, admin included: adding a route to template.yaml
// without a line here makes it unreachable (and fails the route tests), never
// open.
var routeScopes = map[string]Scope{
	// Customers. The record holds profile fields, redacted unless the key
	// also holds pii:read. Erasing a customer is an admin action.
	"PUT /v1/customers/{id}":    CustomersWrite,
	"PATCH /v1/customers/{id}":  CustomersWrite,
	"GET /v1/customers/{id}":    CustomersRead,
	"DELETE /v1/customers/{id}": Admin,

	// Personal data as such: look-up by email (the handler also asks for
	// customers:read) and the export of everything about a customer. The
	// audit trail is for admins.
	"GET /v1/customers":             PIIRead,
	"GET /v1/customers/{id}/export": PIIRead,
	"GET /v1/audit":                 Admin,

	// Catalog.
	"GET /v1/items/{id}":    CatalogRead,
	"PUT /v1/items/{id}":    CatalogWrite,
	"DELETE /v1/items/{id}": CatalogWrite,
	"POST /v1/items:batch":  CatalogWrite,

	// Event ingestion and a customer's event history.
	"POST /v1/events":               EventsWrite,
	"GET /v1/customers/{id}/events": CustomersRead,

	// Recommendations.
	"GET /v1/customers/{id}/recommendations": RecommendationsRead,
	"GET /v1/items/{id}/similar":             RecommendationsRead,
	"GET /v1/popular":                        RecommendationsRead,
	"GET /v1/recommendations/runs":           RecommendationsRead,

	// Segments: sizes, members (customer ids and scores only) and run
	// records of the nightly segmentation; no personal data.
	"GET /v1/segments":                  SegmentsRead,
	"GET /v1/segments/{name}/customers": SegmentsRead,
	"GET /v1/segments/runs/{id}":        SegmentsRead,
	"GET /v1/segments/backtest":         SegmentsRead,

	// Campaigns: reading them, their audiences (customer ids; contact
	// details only when the key also holds pii:read, audited) and their
	// reports; writing drafts, launching, stopping and computing a report.
	"GET /v1/campaigns":               CampaignsRead,
	"GET /v1/campaigns/{id}":          CampaignsRead,
	"GET /v1/campaigns/{id}/audience": CampaignsRead,
	"GET /v1/campaigns/{id}/report":   CampaignsRead,
	"POST /v1/campaigns":              CampaignsWrite,
	"PATCH /v1/campaigns/{id}":        CampaignsWrite,
	"DELETE /v1/campaigns/{id}":       CampaignsWrite,
	"POST /v1/campaigns/{id}/launch":  CampaignsWrite,
	"POST /v1/campaigns/{id}/stop":    CampaignsWrite,
	"POST /v1/campaigns/{id}/report":  CampaignsWrite,
}

// publicRoutes are the routes served without a key: the dashboard's static
// files (HTML, script, styles; the pages fetch every number through the
// routes above with the key the user pasted) and the API's OpenAPI
// document. They hold no customer or business data. In template.yaml they,
// and only they, have Authorizer: NONE.
var publicRoutes = map[string]bool{
	"GET /openapi.json":       true,
	"GET /dashboard":          true,
	"GET /dashboard/{proxy+}": true,
}

// IsPublic reports whether routeKey is served without a key.
func IsPublic(routeKey string) bool { return publicRoutes[routeKey] }

// PublicRoutes lists the routes served without a key, sorted.
func PublicRoutes() []string {
	keys := make([]string, 0, len(publicRoutes))
	for k := range publicRoutes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RequiredScope returns the scope routeKey needs; ok is false for a route
// with no declared scope, which must be denied.
func RequiredScope(routeKey string) (scope Scope, ok bool) {
	s, ok := routeScopes[routeKey]
	return s, ok
}

// RouteScopes returns a copy of the route table, for documentation and
// tests.
func RouteScopes() map[string]Scope {
	out := make(map[string]Scope, len(routeScopes))
	for k, v := range routeScopes {
		out[k] = v
	}
	return out
}

// DeclaredRoutes lists the route keys with a declared scope, sorted.
func DeclaredRoutes() []string {
	keys := make([]string, 0, len(routeScopes))
	for k := range routeScopes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
