// Package catalog defines catalog items and the rules for accepting them.
// Prices are exact: a decimal string on the wire, integer minor units inside.
// It does no I/O.
package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
	"tailor/shared/platform/money"
)

// Input is an item as a client sends it.
type Input struct {
	Title    string   `json:"title"`
	Category []string `json:"category"`
	Brand    string   `json:"brand,omitempty"`
	Price    string   `json:"price"`
	Currency string   `json:"currency"`
	Tags     []string `json:"tags,omitempty"`
	InStock  *bool    `json:"in_stock"`
}

// BatchInput is one entry of a batch upsert: an Input with its id.
type BatchInput struct {
	ItemID string `json:"item_id"`
	Input
}

// Item is a stored catalog item.
type Item struct {
	ID         string    `json:"item_id" dynamodbav:"item_id"`
	Title      string    `json:"title" dynamodbav:"title"`
	Category   []string  `json:"category" dynamodbav:"category"`
	Brand      string    `json:"brand,omitempty" dynamodbav:"brand,omitempty"`
	PriceMinor int64     `json:"-" dynamodbav:"price_minor"`
	Currency   string    `json:"currency" dynamodbav:"currency"`
	Tags       []string  `json:"tags" dynamodbav:"tags"`
	InStock    bool      `json:"in_stock" dynamodbav:"in_stock"`
	CreatedAt  time.Time `json:"created_at" dynamodbav:"created_at"`
	UpdatedAt  time.Time `json:"updated_at" dynamodbav:"updated_at"`
	// Deleted marks a tombstone: the item was deleted at ChangedAt.
	Deleted bool `json:"-" dynamodbav:"deleted,omitempty"`
	// ChangedAt is when the row was last written (the change feed's order).
	ChangedAt time.Time `json:"-" dynamodbav:"-"`
}

// ContentHash is a digest of what a client says about the item (title,
// categories, brand, price, currency, tags, stock), not of when it was
// written: an upsert with the same content hash changes nothing.
func (it Item) ContentHash() string {
	h := sha256.New()
	fields := []string{it.ID, it.Title, strings.Join(it.Category, "\x1f"), it.Brand, strconv.FormatInt(it.PriceMinor, 10),
		it.Currency, strings.Join(it.Tags, "\x1f"), strconv.FormatBool(it.InStock)}
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// View is the JSON form of an item, with the price as a decimal string.
type View struct {
	Item
	Price string `json:"price"`
}

// ToView renders it for the API.
func (it Item) ToView() View { return View{Item: it, Price: money.Format(it.PriceMinor, it.Currency)} }

// TopCategory is the first element of the category path, or "".
func (it Item) TopCategory() string {
	if len(it.Category) == 0 {
		return ""
	}
	return it.Category[0]
}

// Limits on items.
const (
	MaxTitleLen      = 300
	MaxCategoryDepth = 6
	MaxCategoryLen   = 100
	// MaxCategoryPathLen bounds a category path written with "/": the
	// names of MaxCategoryDepth levels and their separators.
	MaxCategoryPathLen = MaxCategoryDepth * (MaxCategoryLen + 1)
	MaxBrandLen        = 100
	MaxTags            = 30
	MaxBatch           = 1000
)

var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_:.-]{0,63}$`)

// ValidateID checks an item id.
func ValidateID(itemID string) error {
	if !id.Valid(itemID) {
		var v errs.Validator
		v.Add("item_id", "must be %s", id.Rule)
		return v.Err()
	}
	return nil
}

// New validates in and returns the item it describes, stamped with now as
// both times; storage keeps the first CreatedAt of an existing item.
// Fields in errors are prefixed with prefix (e.g. "items[3].").
func New(itemID string, in Input, now time.Time, prefix string) (Item, error) {
	var v errs.Validator
	if !id.Valid(itemID) {
		v.Add(prefix+"item_id", "must be %s", id.Rule)
	}
	v.Check(text(in.Title, MaxTitleLen), prefix+"title", "is required: printable text of at most %d characters", MaxTitleLen)
	switch {
	case len(in.Category) == 0:
		v.Add(prefix+"category", "is required: a path of 1 to %d names, broadest first", MaxCategoryDepth)
	case len(in.Category) > MaxCategoryDepth:
		v.Add(prefix+"category", "at most %d levels", MaxCategoryDepth)
	default:
		for i, c := range in.Category {
			v.Check(validCategoryName(c), fmt.Sprintf("%scategory[%d]", prefix, i),
				"must be printable text of at most %d characters without #", MaxCategoryLen)
		}
	}
	if in.Brand != "" {
		v.Check(text(in.Brand, MaxBrandLen), prefix+"brand", "must be printable text of at most %d characters", MaxBrandLen)
	}
	var minor int64
	if _, ok := money.Digits(in.Currency); !ok {
		v.Add(prefix+"currency", "must be an ISO 4217 code such as GBP")
	} else {
		var err error
		minor, err = money.Parse(in.Price, in.Currency)
		switch {
		case err != nil:
			v.Add(prefix+"price", "must be a decimal string such as \"12.50\": %v", err)
		case minor < 0:
			v.Add(prefix+"price", "must not be negative")
		}
	}
	if len(in.Tags) > MaxTags {
		v.Add(prefix+"tags", "at most %d tags", MaxTags)
	}
	for i, t := range in.Tags {
		v.Check(tagRE.MatchString(t), fmt.Sprintf("%stags[%d]", prefix, i), "must be 1 to 64 characters from a-z 0-9 _ : . -")
	}
	if err := v.Err(); err != nil {
		return Item{}, err
	}
	inStock := true
	if in.InStock != nil {
		inStock = *in.InStock
	}
	tags := in.Tags
	if tags == nil {
		tags = []string{}
	}
	return Item{ID: itemID, Title: in.Title, Category: in.Category, Brand: in.Brand, PriceMinor: minor,
		Currency: in.Currency, Tags: tags, InStock: inStock, CreatedAt: now, UpdatedAt: now}, nil
}

// ValidCategory reports whether path names a category the way filters
// do: category names joined by "/", broadest first, such as "Home" or
// "Home/Kitchen", which is matched against an item's Category joined the
// same way. Every name between the separators must be one New accepts in
// an item's Category, so a path with an empty name ("Home//Bath", a
// leading or trailing "/") is invalid, and the path holds at most
// MaxCategoryPathLen characters.
func ValidCategory(path string) bool {
	if utf8.RuneCountInString(path) > MaxCategoryPathLen {
		return false
	}
	for name := range strings.SplitSeq(path, "/") {
		if !validCategoryName(name) {
			return false
		}
	}
	return true
}

// validCategoryName is the rule for one name of an item's category path:
// printable text without "#", which separates the parts of table keys.
func validCategoryName(name string) bool {
	return text(name, MaxCategoryLen) && !strings.Contains(name, "#")
}

func text(s string, max int) bool {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
