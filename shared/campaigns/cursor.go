package campaigns

import (
	"strings"
	"time"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
)

// Page is one page of campaigns.
type Page struct {
	Campaigns []*Campaign
	// Next is the cursor of the following page, "" on the last.
	Next string
}

// MemberPage is one page of an arm's members.
type MemberPage struct {
	Members []Member
	// Next is the cursor of the following page, "" on the last.
	Next string
}

// ListKey orders campaigns in a listing: the creation time (fixed width,
// so keys sort as times do) and the id. Newest first is descending order.
func ListKey(c *Campaign) string {
	return c.CreatedAt.UTC().Format(listTime) + "#" + c.ID
}

const listTime = "2006-01-02T15:04:05.000000000Z"

// ListCursor is the position after a page of campaigns, sealed into an
// opaque next_cursor by the storage adapter.
type ListCursor struct {
	// Key is the ListKey of the page's last campaign.
	Key string `json:"k"`
}

// Valid reports whether the cursor holds a well-formed ListKey.
func (c ListCursor) Valid() bool {
	at, campaignID, ok := strings.Cut(c.Key, "#")
	if !ok || !id.Valid(campaignID) {
		return false
	}
	_, err := time.Parse(listTime, at)
	return err == nil
}

// ID is the campaign id of the cursor's key.
func (c ListCursor) ID() string {
	_, campaignID, _ := strings.Cut(c.Key, "#")
	return campaignID
}

// MemberCursor is the position after a page of an arm's members.
type MemberCursor struct {
	CampaignID string `json:"c"`
	Arm        Arm    `json:"a"`
	// CustomerID is the page's last member.
	CustomerID string `json:"m"`
}

// Valid reports whether the cursor belongs to the arm of the campaign and
// names a well-formed customer id.
func (c MemberCursor) Valid(campaignID string, arm Arm) bool {
	return c.CampaignID == campaignID && c.Arm == arm && id.Valid(c.CustomerID)
}

// ErrCursor is the Invalid error for a cursor the same listing did not
// hand out.
var ErrCursor = errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same listing")

// NotFound is the error for a campaign that does not exist.
func NotFound(campaignID string) error {
	return &errs.Error{Op: "get campaign " + campaignID, Kind: errs.NotFound, Detail: "campaign " + campaignID + " does not exist"}
}
