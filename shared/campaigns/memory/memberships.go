package memory

import (
	"context"
	"maps"
	"slices"

	"tailor/shared/campaigns"
	"tailor/shared/customers"
)

// Memberships are the customer-facing view of a Store's members: the
// Memberships port of the customers service (a customer's memberships for
// export, deleted by erasure), the twin of dynamo.Memberships.
type Memberships struct{ Store *Store }

// List returns the customer's memberships in campaign id order, with the
// campaign's name and channel and its launch start as the assignment time.
func (m *Memberships) List(_ context.Context, customerID string) ([]customers.CampaignMembership, error) {
	s := m.Store
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []customers.CampaignMembership{}
	for _, campaignID := range slices.Sorted(maps.Keys(s.members)) {
		arm, ok := s.members[campaignID][customerID]
		if !ok {
			continue
		}
		out = append(out, membership(campaignID, arm, s.campaigns[campaignID]))
	}
	return out, nil
}

// Erase deletes the customer's memberships and returns how many.
func (m *Memberships) Erase(_ context.Context, customerID string) (int, error) {
	s := m.Store
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ms := range s.members {
		if _, ok := ms[customerID]; ok {
			delete(ms, customerID)
			n++
		}
	}
	return n, nil
}

// membership describes one membership; c is nil when the campaign is gone.
func membership(campaignID string, arm campaigns.Arm, c *campaigns.Campaign) customers.CampaignMembership {
	out := customers.CampaignMembership{CampaignID: campaignID, Arm: string(arm)}
	if c != nil {
		out.Name, out.Channel = c.Name, string(c.Channel)
		if c.Launch != nil && !c.Launch.StartedAt.IsZero() {
			at := c.Launch.StartedAt.UTC()
			out.AssignedAt = &at
		}
	}
	return out
}
