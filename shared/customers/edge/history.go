package edge

import (
	"context"
	"net/http"

	"tailor/shared/events"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

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
	id, err := customerID(r)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	q := events.HistoryQuery{Cursor: r.Query("cursor")}
	if t := r.Query("type"); t != "" {
		v.Check(events.IsType(t), "type", "must be an event type such as purchase")
		q.Type = events.Type(t)
	}
	q.From, q.To = timeParam(&v, r, "from"), timeParam(&v, r, "to")
	if !q.From.IsZero() && !q.To.IsZero() {
		v.Check(q.From.Before(q.To), "to", "must be after from")
	}
	q.Limit = r.Limit(&v, DefaultHistoryLimit, MaxHistoryLimit)
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.Service.Events(ctx, caller(r), id, q)
	if err != nil {
		return nil, err
	}
	resp := HistoryResponse{Events: make([]events.Record, len(page.Events)), NextCursor: page.Next}
	for i, e := range page.Events {
		resp.Events[i] = e.ToRecord()
	}
	return apigw.JSON(http.StatusOK, resp), nil
}
