package edge

import (
	"context"
	"encoding/json"
	"log/slog"

	"tailor/shared/campaigns/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// envelope holds the fields that tell the function's two kinds of event
// apart: an HTTP API request (payload 2.0) and an EventBridge schedule.
type envelope struct {
	RouteKey   string `json:"routeKey"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
}

// Handler is the function's one entry point: HTTP API requests go to
// serve (the router of Register), scheduled events to Refresh, whose
// result is answered and logged. Anything else is an error.
func (a *API) Handler(serve func(context.Context, apigw.Event) (apigw.Result, error), log *slog.Logger) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var env envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, errs.E(errs.Invalid, "the event is not a JSON object")
		}
		switch {
		case env.RouteKey != "":
			var ev apigw.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, errs.E(errs.Invalid, "the HTTP API event does not decode")
			}
			return serve(ctx, ev)
		case env.Source == "aws.events" && env.DetailType == "Scheduled Event":
			return a.refresh(ctx, log)
		}
		return nil, errs.E(errs.Invalid, "neither an HTTP API request nor a scheduled event")
	}
}

func (a *API) refresh(ctx context.Context, log *slog.Logger) (service.RefreshResult, error) {
	res, err := a.Service.Refresh(ctx)
	for _, e := range res.Errors {
		log.ErrorContext(ctx, "campaign refresh failed", "error", e)
	}
	log.InfoContext(ctx, "campaigns refreshed", "launchesContinued", res.Launches, "reportsComputed", res.Reports,
		"completed", res.Completed, "failed", res.Failed, "left", res.Left)
	return res, err
}
