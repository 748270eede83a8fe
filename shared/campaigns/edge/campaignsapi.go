// Package edge serves /v1/campaigns: it decodes and validates requests,
// calls the campaigns service and encodes its answers. It holds no
// campaign rules of its own.
package edge

import (
	"context"
	"net/http"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// Body limits: a campaign with the largest explicit customer list
// (10,000 ids of up to 128 bytes, quoted), and a launch request.
const (
	MaxCampaignBody = 2 << 20
	MaxLaunchBody   = 1 << 10
)

// Page sizes of the listings.
const (
	DefaultListLimit     = 50
	MaxListLimit         = 200
	DefaultAudienceLimit = 100
	MaxAudienceLimit     = 1000
)

// API holds the handlers' dependency: the campaigns service.
type API struct {
	Service *service.Service
}

// Register adds the routes to r. The service and every one of its
// dependencies are required.
func (a *API) Register(r *apigw.Router) {
	if a.Service == nil {
		panic("campaigns edge: Service is required")
	}
	if err := a.Service.Check(); err != nil {
		panic(err)
	}
	r.Handle("POST /v1/campaigns", a.create)
	r.Handle("GET /v1/campaigns", a.list)
	r.Handle("GET /v1/campaigns/{id}", a.get)
	r.Handle("PATCH /v1/campaigns/{id}", a.patch)
	r.Handle("DELETE /v1/campaigns/{id}", a.delete)
	r.Handle("POST /v1/campaigns/{id}/launch", a.launch)
	r.Handle("GET /v1/campaigns/{id}/audience", a.audience)
	r.Handle("POST /v1/campaigns/{id}/stop", a.stop)
	r.Handle("GET /v1/campaigns/{id}/report", a.report)
	r.Handle("POST /v1/campaigns/{id}/report", a.computeReport)
}

// campaignID returns the request's valid campaign id.
func campaignID(r *apigw.Request) (string, error) {
	id := r.PathParam("id")
	return id, campaigns.ValidateID(id)
}

func view(c *campaigns.Campaign) campaigns.View { return c.View() }

func (a *API) create(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var in campaigns.Input
	if err := r.DecodeJSON(&in, MaxCampaignBody); err != nil {
		return nil, err
	}
	c, err := a.Service.Create(ctx, in)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusCreated, view(c)).WithHeader("Location", "/v1/campaigns/"+c.ID), nil
}

// ListResponse is the body of GET /v1/campaigns.
type ListResponse struct {
	Campaigns []campaigns.View `json:"campaigns"`
	Next      string           `json:"next_cursor,omitempty"`
}

func (a *API) list(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var v errs.Validator
	limit := r.Limit(&v, DefaultListLimit, MaxListLimit)
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.Service.List(ctx, limit, r.Query("cursor"))
	if err != nil {
		return nil, err
	}
	out := ListResponse{Campaigns: make([]campaigns.View, len(page.Campaigns)), Next: page.Next}
	for i, c := range page.Campaigns {
		out.Campaigns[i] = view(c)
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func (a *API) get(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	c, err := a.Service.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, view(c)), nil
}

func (a *API) patch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	var p campaigns.Patch
	if err := r.DecodeJSON(&p, MaxCampaignBody); err != nil {
		return nil, err
	}
	c, err := a.Service.Update(ctx, id, p)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, view(c)), nil
}

func (a *API) delete(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	if err := a.Service.Delete(ctx, id); err != nil {
		return nil, err
	}
	return apigw.NoContent(), nil
}

// LaunchRequest is the optional body of POST /v1/campaigns/{id}/launch.
type LaunchRequest struct {
	// AsOf is the launch day, YYYY-MM-DD; today when absent.
	AsOf string `json:"as_of"`
}

// launch answers 200 with the campaign once its launch is complete, and
// 202 with its progress when the request's time ran out first: the same
// request continues it.
func (a *API) launch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	var req LaunchRequest
	if body, err := r.Body(); err != nil {
		return nil, err
	} else if len(body) > 0 {
		if err := r.DecodeJSON(&req, MaxLaunchBody); err != nil {
			return nil, err
		}
	}
	c, done, err := a.Service.Launch(ctx, id, req.AsOf)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if !done {
		status = http.StatusAccepted
	}
	return apigw.JSON(status, view(c)), nil
}

func (a *API) audience(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	arm, err := campaigns.ParseArm(r.Query("arm"))
	if err != nil {
		v.Add("arm", "must be %s or %s", campaigns.Treatment, campaigns.Holdout)
	}
	limit := r.Limit(&v, DefaultAudienceLimit, MaxAudienceLimit)
	if err := v.Err(); err != nil {
		return nil, err
	}
	who := service.Caller{Principal: r.Principal, RequestID: r.Event.RequestContext.RequestID}
	page, err := a.Service.Audience(ctx, who, id, arm, limit, r.Query("cursor"))
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}

func (a *API) stop(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	c, err := a.Service.Stop(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, view(c)), nil
}

func (a *API) report(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	rep, err := a.Service.Report(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, rep), nil
}

func (a *API) computeReport(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := campaignID(r)
	if err != nil {
		return nil, err
	}
	rep, err := a.Service.ComputeReport(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, rep), nil
}
