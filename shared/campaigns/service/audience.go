package service

import (
	"context"
	"fmt"
	"sync"

	"tailor/shared/campaigns"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// auditWriters bounds concurrent audit writes of one page of contacts.
const auditWriters = 8

// AudienceMember is one member as the caller may see it: Contact is set
// only for keys with pii:read, and only on channels that use one.
type AudienceMember struct {
	CustomerID string             `json:"customer_id"`
	Arm        campaigns.Arm      `json:"arm"`
	Contact    *campaigns.Contact `json:"contact,omitempty"`
}

// AudiencePage is one page of an arm's members.
type AudiencePage struct {
	CampaignID string           `json:"campaign_id"`
	Arm        campaigns.Arm    `json:"arm"`
	Members    []AudienceMember `json:"members"`
	Next       string           `json:"next_cursor,omitempty"`
	// PIIMasked says contact details were left out because the key lacks
	// pii:read.
	PIIMasked bool `json:"pii_masked,omitempty"`
}

// Audience lists a page of a launched campaign's arm. Members whose
// customer was erased since the launch are left out (a page can then be
// shorter than limit). A key with pii:read also gets each member's contact
// detail for the channel, decrypted, and every customer whose detail is
// answered is recorded in the audit trail (pii.read) before the answer.
func (s *Service) Audience(ctx context.Context, who Caller, campaignID string, arm campaigns.Arm, limit int, cursor string) (AudiencePage, error) {
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return AudiencePage{}, err
	}
	if !c.Status.Launched() {
		return AudiencePage{}, errs.E(errs.Conflict, fmt.Sprintf("campaign %s is %s; its audience is listed once the launch is complete", c.ID, c.Status))
	}
	page, err := s.Members.Arm(ctx, c.ID, arm, limit, cursor)
	if err != nil {
		return AudiencePage{}, err
	}
	open := who.Principal.Has(auth.PIIRead) && (c.Channel == campaigns.Email || c.Channel == campaigns.SMS)
	ids := make([]string, len(page.Members))
	for i, m := range page.Members {
		ids[i] = m.CustomerID
	}
	present, err := s.Customers.Contacts(ctx, ids, open)
	if err != nil {
		return AudiencePage{}, fmt.Errorf("list audience of campaign %s: %w", c.ID, err)
	}
	out := AudiencePage{CampaignID: c.ID, Arm: arm, Members: []AudienceMember{}, Next: page.Next,
		PIIMasked: !who.Principal.Has(auth.PIIRead)}
	var reads []string
	for _, m := range page.Members {
		ct, ok := present[m.CustomerID]
		if !ok {
			continue
		}
		am := AudienceMember{CustomerID: m.CustomerID, Arm: m.Arm}
		if ct = ct.For(c.Channel); open && !ct.Empty() {
			am.Contact = &ct
			reads = append(reads, m.CustomerID)
		}
		out.Members = append(out.Members, am)
	}
	if err := s.recordReads(ctx, who, reads); err != nil {
		return AudiencePage{}, err
	}
	return out, nil
}

// recordReads records a pii.read entry per customer, a few at a time; any
// failure fails the request, so no detail is answered unaudited.
func (s *Service) recordReads(ctx context.Context, who Caller, customerIDs []string) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan string)
	)
	for range min(auditWriters, len(customerIDs)) {
		wg.Go(func() {
			for id := range next {
				if err := s.record(ctx, who, audit.PIIRead, id); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range customerIDs {
		next <- id
	}
	close(next)
	wg.Wait()
	return first
}
