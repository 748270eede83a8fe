package recommendations

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"tailor/shared/catalog"
)

// Snapshot is everything the recommend function serves from memory: the
// trained neighbour lists and popularity lists, and the catalogue as it
// was when training read it. The train job writes one per run; each
// execution environment of the recommend function loads the newest at
// cold start and keeps its catalogue current from the change feed, read
// from CatalogAt on.
type Snapshot struct {
	AsOf time.Time
	// CatalogAt is when training began reading the catalogue: a change
	// made at or after it may be missing from Catalog.
	CatalogAt time.Time
	// Head, Lambda and TailScale describe the model (see Model and EASEConfig).
	Head      int
	Lambda    float64
	TailScale float64
	// Catalog holds every live catalogue item (Tags, CreatedAt and
	// ChangedAt are not kept).
	Catalog []catalog.Item
	Models  map[string]ItemModel
	Popular []PopularList
}

// NewSnapshot assembles the snapshot of a trained model and the catalogue
// read at catalogAt.
func NewSnapshot(m *Model, lambda float64, items []catalog.Item, catalogAt time.Time) *Snapshot {
	return &Snapshot{AsOf: m.AsOf, CatalogAt: catalogAt, Head: m.Head, Lambda: lambda, TailScale: m.TailScale,
		Catalog: items, Models: m.Items, Popular: m.Popular}
}

// snapshotMagic starts every encoded snapshot; the last byte is the
// format version.
var snapshotMagic = []byte("TAILORS\x01")

// ErrCorruptSnapshot is returned for bytes that are not a snapshot this
// version can read.
var ErrCorruptSnapshot = errors.New("recommendations: corrupt or unknown snapshot")

// MarshalBinary encodes the snapshot compactly: every string once in a
// table, items and neighbours as varint indexes into it, scores as
// float32, the whole deflated. Encoding is deterministic: the same
// snapshot gives the same bytes.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	// The string table must precede its uses, so the body is written
	// first and the table put before it.
	var table []string
	ids := slices.Sorted(maps.Keys(s.Models))
	body := snapWriter{strings: map[string]uint64{}, table: &table}
	body.int(s.AsOf.UnixNano())
	body.int(s.CatalogAt.UnixNano())
	body.uint(uint64(s.Head))
	body.float64(s.Lambda)
	body.float64(s.TailScale)
	body.uint(uint64(len(s.Catalog)))
	for _, it := range s.Catalog {
		body.str(it.ID)
		body.str(it.Title)
		body.uint(uint64(len(it.Category)))
		for _, c := range it.Category {
			body.str(c)
		}
		body.str(it.Brand)
		body.int(it.PriceMinor)
		body.str(it.Currency)
		body.bool(it.InStock)
		body.int(it.UpdatedAt.UnixMilli())
	}
	body.uint(uint64(len(ids)))
	for _, id := range ids {
		m := s.Models[id]
		body.str(id)
		body.uint(uint64(m.Customers))
		body.float32(m.RepeatRate)
		body.uint(uint64(len(m.Neighbours)))
		for _, nb := range m.Neighbours {
			body.str(nb.ItemID)
			body.float32(nb.Score)
		}
	}
	body.uint(uint64(len(s.Popular)))
	for _, l := range s.Popular {
		body.uint(uint64(l.WindowDays))
		body.str(l.Category)
		body.uint(uint64(len(l.Items)))
		for _, p := range l.Items {
			body.str(p.ItemID)
			body.float32(p.Score)
		}
	}
	var w snapWriter
	w.uint(uint64(len(table)))
	for _, str := range table {
		w.uint(uint64(len(str)))
		w.buf = append(w.buf, str...)
	}
	w.buf = append(w.buf, body.buf...)

	var out bytes.Buffer
	out.Write(snapshotMagic)
	fw, err := flate.NewWriter(&out, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(w.buf); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnmarshalSnapshot decodes what MarshalBinary encoded. Strings are
// shared between the catalogue, the lists and the popularity lists.
func UnmarshalSnapshot(data []byte) (*Snapshot, error) {
	if !bytes.HasPrefix(data, snapshotMagic) {
		return nil, ErrCorruptSnapshot
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[len(snapshotMagic):])))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptSnapshot, err)
	}
	r := snapReader{buf: raw}
	n := r.count(1)
	r.table = make([]string, n)
	for i := range n {
		l := r.count(1)
		if r.err == nil {
			r.table[i] = string(r.buf[:l])
			r.buf = r.buf[l:]
		}
	}
	s := &Snapshot{}
	s.AsOf = time.Unix(0, r.int()).UTC()
	s.CatalogAt = time.Unix(0, r.int()).UTC()
	s.Head = int(r.uint())
	s.Lambda = r.float64()
	s.TailScale = r.float64()
	s.Catalog = make([]catalog.Item, r.count(8))
	for i := range s.Catalog {
		it := &s.Catalog[i]
		it.ID = r.str()
		it.Title = r.str()
		it.Category = make([]string, r.count(1))
		for c := range it.Category {
			it.Category[c] = r.str()
		}
		it.Brand = r.str()
		it.PriceMinor = r.int()
		it.Currency = r.str()
		it.InStock = r.bool()
		it.UpdatedAt = time.UnixMilli(r.int()).UTC()
		it.Tags = []string{}
	}
	nm := r.count(4)
	s.Models = make(map[string]ItemModel, nm)
	for range nm {
		m := ItemModel{ItemID: r.str(), Customers: int(r.uint()), RepeatRate: r.float32()}
		m.Neighbours = make([]Neighbour, r.count(2))
		for k := range m.Neighbours {
			m.Neighbours[k] = Neighbour{ItemID: r.str(), Score: r.float32()}
		}
		s.Models[m.ItemID] = m
	}
	s.Popular = make([]PopularList, r.count(3))
	for i := range s.Popular {
		l := PopularList{WindowDays: int(r.uint()), Category: r.str()}
		l.Items = make([]ScoredItem, r.count(2))
		for k := range l.Items {
			l.Items[k] = ScoredItem{ItemID: r.str(), Score: r.float32()}
		}
		s.Popular[i] = l
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.buf) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptSnapshot, len(r.buf))
	}
	return s, nil
}

// MemoryBytes is an upper estimate of the heap the recommend function
// holds for the snapshot once loaded (TestSnapshotMemoryEstimate checks it
// against what decoding really allocates): the decoded snapshot and the
// indexes built on it.
func (s *Snapshot) MemoryBytes() int64 {
	var strs, links int64
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			strs += int64(len(v)) + 16
		}
	}
	for _, it := range s.Catalog {
		add(it.ID)
		add(it.Title)
		add(it.Brand)
		add(it.Currency)
		for _, c := range it.Category {
			add(c)
		}
	}
	for _, m := range s.Models {
		add(m.ItemID)
		links += int64(len(m.Neighbours))
		for _, nb := range m.Neighbours {
			add(nb.ItemID)
		}
	}
	for _, l := range s.Popular {
		links += int64(len(l.Items))
	}
	items := int64(len(s.Catalog))
	// A catalogue item: the catalog.Item (~200 B), the scorer's Item
	// (~90 B), the category slice and path, and three map entries
	// (~100 B each with Go's map overhead).
	perItem := int64(200 + 90 + 64 + 300)
	// A model: the ItemModel and its map entry; a link: a Neighbour or
	// ScoredItem (24 B), with slack for slice growth.
	perModel := int64(160)
	return strs + items*perItem + int64(len(s.Models))*perModel + links*32
}

// snapWriter appends the snapshot encoding.
type snapWriter struct {
	buf     []byte
	strings map[string]uint64
	table   *[]string
}

func (w *snapWriter) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *snapWriter) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *snapWriter) float64(v float64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(v))
}
func (w *snapWriter) float32(v float64) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(float32(v)))
}
func (w *snapWriter) bool(v bool) {
	if v {
		w.uint(1)
	} else {
		w.uint(0)
	}
}
func (w *snapWriter) str(v string) {
	n, ok := w.strings[v]
	if !ok {
		n = uint64(len(*w.table))
		w.strings[v] = n
		*w.table = append(*w.table, v)
	}
	w.uint(n)
}

// snapReader reads the encoding; the first error sticks and every later
// read returns a zero value.
type snapReader struct {
	buf   []byte
	table []string
	err   error
}

func (r *snapReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorruptSnapshot, what)
	}
	r.buf = nil
}

func (r *snapReader) uint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *snapReader) int() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// count reads a length whose elements take at least min bytes each, so a
// corrupt length cannot make the decoder allocate more than the input
// could hold.
func (r *snapReader) count(min int) int {
	v := r.uint()
	if v > uint64(len(r.buf)/min) {
		r.fail("length")
		return 0
	}
	return int(v)
}

func (r *snapReader) float64() float64 {
	if len(r.buf) < 8 {
		r.fail("float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.buf))
	r.buf = r.buf[8:]
	return v
}

func (r *snapReader) float32() float64 {
	if len(r.buf) < 4 {
		r.fail("float")
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(r.buf))
	r.buf = r.buf[4:]
	return float64(v)
}

func (r *snapReader) bool() bool { return r.uint() != 0 }

func (r *snapReader) str() string {
	n := r.uint()
	if n >= uint64(len(r.table)) {
		r.fail("string index")
		return ""
	}
	return r.table[n]
}

// Index is a loaded snapshot with the lookups a request needs. It is
// never modified once built: Apply returns a new Index, so requests can
// read one while the next is prepared.
type Index struct {
	Snapshot *Snapshot
	// Live holds every live catalogue item by id; Items the scorer's
	// attributes of the same items.
	Live  map[string]catalog.Item
	Items map[string]Item
	// Order is the ids of Live, sorted: the scorer's last-resort backfill.
	Order   []string
	Popular map[PopularKey][]ScoredItem
	// ChangedAt is the newest change time applied from the change feed
	// (CatalogAt before any).
	ChangedAt time.Time
}

// NewIndex indexes a snapshot.
func NewIndex(s *Snapshot) *Index {
	x := &Index{Snapshot: s, Live: make(map[string]catalog.Item, len(s.Catalog)), Items: make(map[string]Item, len(s.Catalog)),
		Popular: make(map[PopularKey][]ScoredItem, len(s.Popular)), ChangedAt: s.CatalogAt}
	for _, it := range s.Catalog {
		x.Live[it.ID] = it
		x.Items[it.ID] = CatalogItem(it)
	}
	x.Order = slices.Sorted(maps.Keys(x.Live))
	for _, l := range s.Popular {
		x.Popular[PopularKey{WindowDays: l.WindowDays, Category: l.Category}] = l.Items
	}
	return x
}

// Apply returns the index with catalogue changes laid over it: a row
// newer than the one held replaces it, a deleted row removes it. x is not
// modified; with nothing to change x itself is returned.
func (x *Index) Apply(changes []catalog.Item) *Index {
	var todo []catalog.Item
	newest := x.ChangedAt
	for _, c := range changes {
		if c.ChangedAt.After(newest) {
			newest = c.ChangedAt
		}
		old, ok := x.Live[c.ID]
		switch {
		case c.Deleted && !ok:
		case ok && !c.Deleted && !c.UpdatedAt.After(old.UpdatedAt):
		case ok && c.Deleted && c.ChangedAt.Before(old.UpdatedAt):
		default:
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		if newest.Equal(x.ChangedAt) {
			return x
		}
		y := *x
		y.ChangedAt = newest
		return &y
	}
	y := *x
	y.ChangedAt = newest
	y.Live = maps.Clone(x.Live)
	y.Items = maps.Clone(x.Items)
	added := false
	for _, c := range todo {
		if c.Deleted {
			delete(y.Live, c.ID)
			delete(y.Items, c.ID)
			continue
		}
		if _, ok := y.Live[c.ID]; !ok {
			added = true
		}
		c.Tags = []string{}
		y.Live[c.ID] = c
		y.Items[c.ID] = CatalogItem(c)
	}
	if added || len(y.Live) != len(x.Live) {
		y.Order = slices.Sorted(maps.Keys(y.Live))
	}
	return &y
}
