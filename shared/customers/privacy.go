package customers

import (
	"errors"
	"time"

	"tailor/shared/platform/pii"
)

// ErrErased says the customer was erased: its record is a tombstone that
// refuses events and, for keys other than admin, re-creation (see
// docs/security.md, "Erasure").
var ErrErased = errors.New("customer was erased")

// HasPersonal reports whether the profile holds any personal field: name,
// email, phone, birth year or city.
func (p Profile) HasPersonal() bool {
	return p.Name != "" || p.Email != "" || p.Phone != "" || p.BirthYear != 0 || p.City != ""
}

// Masked returns a copy of c for a caller without pii:read: name, email
// and phone masked by the rules of package pii, birth year and city left
// out, PIIMasked set.
func (c *Customer) Masked() *Customer {
	m := *c
	p := &m.Profile
	if p.Name != "" {
		p.Name = pii.MaskName(p.Name)
	}
	if p.Email != "" {
		p.Email = pii.MaskEmail(p.Email)
	}
	if p.Phone != "" {
		p.Phone = pii.MaskPhone(p.Phone)
	}
	p.BirthYear, p.City = 0, ""
	m.PIIMasked = true
	return &m
}

// Erasure counts what erasing a customer deleted.
type Erasure struct {
	// HistoryItems counts the events removed from the history and
	// EventRecords their de-duplication records.
	HistoryItems int `json:"history_items"`
	EventRecords int `json:"event_records"`
	Aliases      int `json:"aliases"`
	// CampaignMemberships counts the campaign audience memberships
	// deleted from the campaigns table.
	CampaignMemberships int `json:"campaign_memberships"`
}

// CampaignMembership is one campaign audience the customer was assigned
// to: what erasure deletes from the campaigns table and an export lists.
type CampaignMembership struct {
	CampaignID string `json:"campaign_id"`
	// Name and Channel are the campaign's ("" when the campaign item is
	// gone).
	Name    string `json:"name,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Arm is "treatment" or "holdout".
	Arm string `json:"arm"`
	// AssignedAt is when the launch that assigned the customer started
	// (nil when unknown).
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
}
