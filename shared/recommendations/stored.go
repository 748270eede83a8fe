package recommendations

import (
	"math"
	"strconv"
	"strings"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
)

// Shopper is what a recommendation request needs of a customer record:
// the aggregates ingestion keeps and the consent the customer gave.
type Shopper struct {
	Aggregates *customers.Aggregates
	Consent    map[string]customers.ConsentState
}

// PopularKey names one popularity list: a window in days and a
// top-level category ("" for the whole catalogue).
type PopularKey struct {
	WindowDays int
	Category   string
}

// Run is the record of one training run.
type Run struct {
	AsOf      time.Time `json:"as_of"`
	StartedAt time.Time `json:"started_at"`
	// Duration is the run's wall time; DurationMS the same in whole
	// milliseconds, which is what is stored and answered.
	Duration     time.Duration `json:"-"`
	DurationMS   int64         `json:"duration_ms"`
	Interactions int           `json:"interactions"`
	Catalog      int           `json:"catalog_items"`
	Items        int           `json:"items"`
	Pairs        int           `json:"pairs"`
	PopularLists int           `json:"popular_lists"`
	// Customers is how many customer records were read; Head and Lambda
	// describe the linear model; Snapshot is the stored snapshot and
	// ModelBytes the memory it takes in the recommend function (an upper
	// estimate, see Snapshot.MemoryBytes).
	Customers  int         `json:"customers"`
	Head       int         `json:"head"`
	Lambda     float64     `json:"lambda"`
	Snapshot   SnapshotRef `json:"snapshot"`
	ModelBytes int64       `json:"model_bytes"`
	// Evaluation is the run's offline check on a holdout of its last days
	// (nil when the job is set not to run one, or nobody qualified).
	Evaluation *Evaluation `json:"evaluation,omitempty"`
}

// CatalogItem turns a catalogue item into the attributes the recommender
// uses: the category path joined with "/", most general first.
func CatalogItem(it catalog.Item) Item {
	return Item{ItemID: it.ID, Category: strings.Join(it.Category, "/"), Brand: it.Brand, PriceMinor: it.PriceMinor,
		InStock: it.InStock}
}

// Round6 keeps six significant digits of a score: all the ranking needs,
// small in a stored list and short on the wire. NaN and infinities are 0.
func Round6(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// SnapshotChunkBytes is the most bytes one stored piece of a snapshot
// holds: under DynamoDB's 400 KB item limit, with room for the keys.
const SnapshotChunkBytes = 350 << 10

// SnapshotRef names a stored snapshot: the training run it belongs to,
// its size and its SHA-256, which a reader checks before decoding.
type SnapshotRef struct {
	AsOf   time.Time `json:"as_of"`
	Bytes  int64     `json:"bytes"`
	Chunks int       `json:"chunks"`
	SHA256 string    `json:"sha256"`
}
