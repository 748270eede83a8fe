package recommendations

import (
	"strings"
	"time"
)

// EventType is the kind of interaction a customer had with an item; the
// values match the event wire format.
type EventType string

// Event types the model understands. Other types (search) carry no item
// signal and get weight zero unless configured.
const (
	View           EventType = "view"
	AddToCart      EventType = "add_to_cart"
	RemoveFromCart EventType = "remove_from_cart"
	Purchase       EventType = "purchase"
	Refund         EventType = "refund"
)

// Interaction is one training event.
type Interaction struct {
	CustomerID string
	ItemID     string
	Type       EventType
	Time       time.Time
	Quantity   int64
	// Weight multiplies the event-type weight; zero means 1. Generic
	// interaction exports use it for their optional strength column.
	Weight float64
}

// Item holds the attributes the scorer filters and falls back on.
type Item struct {
	ItemID string
	// Category is the category path, most general first
	// ("home/kitchen/mugs"); the first segment is the top-level category.
	Category   string
	Brand      string
	PriceMinor int64 // price in minor units; 0 when unknown
	InStock    bool
}

// TopCategory returns the first segment of the item's category path, or ""
// when the item has no category.
func (it Item) TopCategory() string { return TopCategory(it.Category) }

// TopCategory returns the first segment of a "/"-separated category path.
func TopCategory(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			return path[:i]
		}
	}
	return path
}

// UnderCategory reports whether a category path equals prefix or lies
// below it, on whole segments ("Home" covers "Home/Kitchen", not
// "Homeware"). Slashes around prefix are ignored; "" covers every path.
func UnderCategory(path, prefix string) bool {
	prefix = strings.Trim(prefix, "/")
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Neighbour is one entry of an item's neighbour list.
type Neighbour struct {
	ItemID string  `json:"item_id"`
	Score  float64 `json:"score"`
}

// ScoredItem is an item with a ranking score (popularity lists use it).
type ScoredItem struct {
	ItemID string  `json:"item_id"`
	Score  float64 `json:"score"`
}

// ItemModel is what training produces for one item and what the serving
// side stores per item: its top-K neighbours, best first, and how often
// buyers of the item buy it again.
type ItemModel struct {
	ItemID     string      `json:"item_id"`
	Neighbours []Neighbour `json:"neighbours"`
	// RepeatRate is the share of the item's buyers who bought it on at least
	// two different days, shrunk toward the catalogue-wide rate so that an
	// item with two buyers does not claim 0% or 100%.
	RepeatRate float64 `json:"repeat_rate"`
	// Customers is the number of customers with a positive weight for the item.
	Customers int `json:"customers"`
}

// PopularList is a ranked list of popular items for one window and
// top-level category ("" for the whole catalogue).
type PopularList struct {
	WindowDays int          `json:"window_days"`
	Category   string       `json:"category"`
	Items      []ScoredItem `json:"items"`
}

// FindPopular returns the items of the list for the window and category,
// or nil when there is none.
func FindPopular(lists []PopularList, windowDays int, category string) []ScoredItem {
	for _, l := range lists {
		if l.WindowDays == windowDays && l.Category == category {
			return l.Items
		}
	}
	return nil
}

// History is what a customer record keeps that the recommender learns
// from: the bounded list of recent interactions and one summary per
// purchased item. Training reads these instead of every stored event, so
// the model learns from exactly what a request sees.
type History struct {
	CustomerID string
	Recent     []Event
	Purchases  []PurchaseSummary
}

// HistoryInteractions turns histories into training interactions: each
// recent interaction other than a purchase as it happened, and each
// purchased item as one purchase at its last purchase time weighing its
// purchase count (the recent list's purchases are in the summaries
// already).
func HistoryInteractions(hs []History) []Interaction {
	n := 0
	for _, h := range hs {
		n += len(h.Recent) + len(h.Purchases)
	}
	out := make([]Interaction, 0, n)
	for _, h := range hs {
		for _, e := range h.Recent {
			if e.Type != Purchase {
				out = append(out, Interaction{CustomerID: h.CustomerID, ItemID: e.ItemID, Type: e.Type, Time: e.Time, Quantity: 1})
			}
		}
		for _, p := range h.Purchases {
			if p.Count > 0 {
				out = append(out, Interaction{CustomerID: h.CustomerID, ItemID: p.ItemID, Type: Purchase, Time: p.Last, Quantity: 1,
					Weight: float64(p.Count)})
			}
		}
	}
	return out
}
