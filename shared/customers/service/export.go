package service

import (
	"context"
	"strconv"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/errs"
)

// Export is everything held about one customer: the record, the event
// history (feedback events included), the linked anonymous ids, the
// campaign audiences the customer was assigned to and the audit entries
// about them.
type Export struct {
	Customer            *customers.Customer            `json:"customer"`
	Events              []events.Record                `json:"events"`
	Aliases             []string                       `json:"anonymous_ids"`
	CampaignMemberships []customers.CampaignMembership `json:"campaign_memberships"`
	Audit               []audit.Entry                  `json:"audit"`
	ExportedAt          time.Time                      `json:"exported_at"`
}

// Limits of an export. A history beyond MaxExportEvents is refused with a
// TooLarge error rather than silently truncated; the audit entries, which
// the customer did not make, are cut at MaxExportAudit.
const (
	MaxExportEvents = 20000
	MaxExportAudit  = 5000
	exportPage      = 200
	exportAuditPage = 500
)

// Export assembles everything held about the customer, whole (the caller
// is allowed personal data), after recording the export in the audit log:
// the export's own entry is part of the document.
func (s *Service) Export(ctx context.Context, who Caller, customerID string) (*Export, error) {
	c, err := s.Records.Get(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, who, audit.CustomerExport, customerID); err != nil {
		return nil, err
	}
	out := &Export{Customer: c, Events: []events.Record{}, Audit: []audit.Entry{}, ExportedAt: s.now()}
	hq := events.HistoryQuery{Limit: exportPage}
	for {
		page, err := s.History.List(ctx, customerID, hq)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			out.Events = append(out.Events, e.ToRecord())
		}
		if page.Next == "" {
			break
		}
		if len(out.Events) >= MaxExportEvents {
			return nil, errs.E(errs.TooLarge, "the customer has more than "+strconv.Itoa(MaxExportEvents)+
				" events; export them with GET /v1/customers/{id}/events")
		}
		hq.Cursor = page.Next
	}
	if out.Aliases, err = s.Privacy.Aliases(ctx, customerID); err != nil {
		return nil, err
	}
	if out.CampaignMemberships, err = s.Memberships.List(ctx, customerID); err != nil {
		return nil, err
	}
	if out.CampaignMemberships == nil {
		out.CampaignMemberships = []customers.CampaignMembership{}
	}
	aq := audit.Query{Target: audit.CustomerTarget(customerID), Limit: exportAuditPage}
	for {
		page, err := s.Audit.List(ctx, aq)
		if err != nil {
			return nil, err
		}
		out.Audit = append(out.Audit, page.Entries...)
		if page.Next == "" || len(out.Audit) >= MaxExportAudit {
			break
		}
		aq.Cursor = page.Next
	}
	return out, nil
}
