package edge

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// HistoryStore reads a customer's event history.
type HistoryStore interface {
	List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error)
}

// History page sizes.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 200
)

// HistoryResponse is one page of GET /v1/customers/{id}/events.
type HistoryResponse struct {
	Events     []events.Record `json:"events"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// events serves GET /v1/customers/{id}/events?type=&from=&to=&limit=&cursor=,
// newest first; from is inclusive, to exclusive (RFC 3339).
func (a *API) events(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	var v errs.Validator
	q := events.HistoryQuery{Limit: DefaultHistoryLimit, Cursor: r.Query("cursor")}
	if t := r.Query("type"); t != "" {
		v.Check(events.IsType(t), "type", "must be an event type such as purchase")
		q.Type = events.Type(t)
	}
	parseTime := func(name string) time.Time {
		s := r.Query(name)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		v.Check(err == nil, name, "must be RFC 3339 such as 2026-11-20T10:15:00Z")
		return t
	}
	q.From, q.To = parseTime("from"), parseTime("to")
	if !q.From.IsZero() && !q.To.IsZero() {
		v.Check(q.From.Before(q.To), "to", "must be after from")
	}
	if s := r.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= MaxHistoryLimit, "limit", "must be 1 to %d", MaxHistoryLimit)
		q.Limit = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.History.List(ctx, id, q)
	if err != nil {
		return nil, err
	}
	resp := HistoryResponse{Events: make([]events.Record, len(page.Events)), NextCursor: page.Next}
	// Free text (properties, query) may hold personal data: keys without
	// pii:read get events without it; a page that shows some is audited.
	reader, shown := r.Principal.Has(auth.PIIRead), false
	for i, e := range page.Events {
		if !reader {
			e.Properties, e.Query = "", ""
		}
		shown = shown || e.Properties != "" || e.Query != ""
		resp.Events[i] = e.ToRecord()
	}
	if shown {
		if err := a.record(ctx, r, audit.PIIRead, audit.CustomerTarget(id)); err != nil {
			return nil, err
		}
	}
	return apigw.JSON(http.StatusOK, resp), nil
}
