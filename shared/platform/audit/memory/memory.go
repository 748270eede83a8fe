// Package memory is the in-memory twin of the audit trail's DynamoDB
// adapter: the same keys, conditional append, order, time bounds and
// opaque cursors, which the contract suite in package contract proves. It
// serves tests and local runs; no function links it.
package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"tailor/shared/platform/audit"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// Audit is an append-only audit trail in memory. It is safe for concurrent
// use.
type Audit struct {
	mu sync.Mutex
	// entries holds every entry under its key: target, then sort key.
	entries map[string]map[string]audit.Entry
}

// entryKey is where an entry lives: the target's partition (pk) and, in
// the index by acting key, the key's partition (kp); both sort by sk.
type entryKey struct{ pk, sk, kp string }

func keyOf(e audit.Entry) entryKey {
	return entryKey{pk: "T#" + e.Target, sk: e.At.UTC().Format(timeLayout) + "#" + string(e.Action) + "#" + e.RequestID,
		kp: "K#" + e.KeyID}
}

// timeLayout has fixed width, so that string order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// Record appends e. Recording the same entry twice (same target, time,
// action and request id) keeps the first.
func (s *Audit) Record(_ context.Context, e audit.Entry) error {
	k := keyOf(e)
	e.At = e.At.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]map[string]audit.Entry{}
	}
	if s.entries[k.pk] == nil {
		s.entries[k.pk] = map[string]audit.Entry{}
	}
	if _, ok := s.entries[k.pk][k.sk]; !ok {
		s.entries[k.pk][k.sk] = e
	}
	return nil
}

// cursor is the decoded form of a page cursor: the last entry's keys, as
// the DynamoDB adapter encodes them.
type cursor struct {
	PK    string `json:"pk"`
	SK    string `json:"sk"`
	KeyPK string `json:"kp,omitempty"`
	KeySK string `json:"ks,omitempty"`
}

// List returns one page of entries, newest first, by target or by key,
// with From <= time < To. A page that reaches the limit has a cursor even
// when nothing follows, as a DynamoDB Query does.
func (s *Audit) List(_ context.Context, q audit.Query) (audit.Page, error) {
	byKey := q.Target == ""
	pk := "T#" + q.Target
	if byKey {
		pk = "K#" + q.KeyID
	}
	lo, hi := "0", "~"
	if !q.From.IsZero() {
		lo = q.From.UTC().Format(timeLayout)
	}
	if !q.To.IsZero() {
		hi = q.To.UTC().Format(timeLayout)
	}
	var after *entryKey
	if q.Cursor != "" {
		k, err := openCursor(q.Cursor, byKey, pk)
		if err != nil {
			return audit.Page{}, err
		}
		after = &k
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}

	s.mu.Lock()
	var keys []entryKey
	for tpk, part := range s.entries {
		if !byKey && tpk != pk {
			continue
		}
		for sk, e := range part {
			k := entryKey{pk: tpk, sk: sk, kp: "K#" + e.KeyID}
			if (byKey && k.kp != pk) || sk < lo || sk > hi {
				continue
			}
			keys = append(keys, k)
		}
	}
	// Newest first; in the index, entries of equal time fall back on the
	// table key.
	slices.SortFunc(keys, func(a, b entryKey) int {
		return cmp.Or(strings.Compare(b.sk, a.sk), strings.Compare(b.pk, a.pk))
	})
	if after != nil {
		i, _ := slices.BinarySearchFunc(keys, *after, func(k, t entryKey) int {
			return cmp.Or(strings.Compare(t.sk, k.sk), strings.Compare(t.pk, k.pk))
		})
		for i < len(keys) && keys[i].sk == after.sk && keys[i].pk == after.pk {
			i++
		}
		keys = keys[i:]
	}
	page := audit.Page{Entries: []audit.Entry{}}
	for _, k := range keys[:min(limit, len(keys))] {
		page.Entries = append(page.Entries, s.entries[k.pk][k.sk])
	}
	s.mu.Unlock()

	if len(keys) >= limit {
		last := keys[limit-1]
		c := cursor{PK: last.pk, SK: last.sk}
		if byKey {
			c.KeyPK, c.KeySK = last.kp, last.sk
		}
		page.Next = ddb.SealCursor(c)
	}
	return page, nil
}

// openCursor accepts only a cursor of the same query: same target or key,
// and keys of the shape Record writes.
func openCursor(s string, byKey bool, pk string) (entryKey, error) {
	bad := errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same query")
	var c cursor
	if !ddb.OpenCursor(s, &c) || !strings.HasPrefix(c.PK, "T#") || c.SK == "" {
		return entryKey{}, bad
	}
	if !byKey {
		if c.PK != pk {
			return entryKey{}, bad
		}
		return entryKey{pk: c.PK, sk: c.SK}, nil
	}
	if c.KeyPK != pk || c.KeySK == "" {
		return entryKey{}, bad
	}
	return entryKey{pk: c.PK, sk: c.KeySK, kp: c.KeyPK}, nil
}
