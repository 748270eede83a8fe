package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"tailor/shared/recommendations"
)

// Split is a train/test division of interaction data.
type Split struct {
	// Train holds the interactions a recommender may learn from.
	Train []recommendations.Interaction
	// AsOf is the training time: the cutoff of a time split, the latest
	// training event of a stratified split.
	AsOf time.Time
	// Users are the test users, sorted: users with purchases in both parts.
	Users []string
	// Relevant maps each test user to the distinct items they bought in the
	// test part.
	Relevant map[string]map[string]bool
	// Seen maps each test user to the items they interacted with in
	// training; unless KeepSeen, those items are not candidates.
	Seen     map[string]map[string]bool
	KeepSeen bool
}

// TimeSplit trains on interactions before cutoff and tests on purchases
// from cutoff on.
func TimeSplit(data []recommendations.Interaction, cutoff time.Time, keepSeen bool) (Split, error) {
	var train, test []recommendations.Interaction
	for _, in := range data {
		if in.Time.Before(cutoff) {
			train = append(train, in)
		} else {
			test = append(test, in)
		}
	}
	if len(train) == 0 || len(test) == 0 {
		return Split{}, fmt.Errorf("eval: time split at %s leaves an empty side", cutoff.Format(time.DateOnly))
	}
	return newSplit(train, test, cutoff, keepSeen), nil
}

// StratifiedSplit puts a random share ratio of each user's interactions in
// training, with a fixed seed so that runs are repeatable. Each user's
// interactions are shuffled independently, so the training share is exact
// per user (rounded down, at least one interaction stays in test).
func StratifiedSplit(data []recommendations.Interaction, ratio float64, seed uint64, keepSeen bool) (Split, error) {
	if !(ratio > 0 && ratio < 1) {
		return Split{}, errors.New("eval: ratio must be in (0, 1)")
	}
	byUser := map[string][]int{}
	for n, in := range data {
		byUser[in.CustomerID] = append(byUser[in.CustomerID], n)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users) // map order must not leak into the random stream
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var train, test []recommendations.Interaction
	var asOf time.Time
	for _, u := range users {
		idx := byUser[u]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		nTrain := min(int(ratio*float64(len(idx))), len(idx)-1)
		for k, n := range idx {
			if k < nTrain {
				train = append(train, data[n])
				if data[n].Time.After(asOf) {
					asOf = data[n].Time
				}
			} else {
				test = append(test, data[n])
			}
		}
	}
	if len(train) == 0 || len(test) == 0 {
		return Split{}, errors.New("eval: stratified split leaves an empty side")
	}
	// Keep a deterministic, time-ordered training set like a time split has.
	slices.SortStableFunc(train, func(a, b recommendations.Interaction) int { return a.Time.Compare(b.Time) })
	return newSplit(train, test, asOf, keepSeen), nil
}

func newSplit(train, test []recommendations.Interaction, asOf time.Time, keepSeen bool) Split {
	s := Split{Train: train, AsOf: asOf, Relevant: map[string]map[string]bool{}, Seen: map[string]map[string]bool{}, KeepSeen: keepSeen}
	trainBuyers := map[string]bool{}
	for _, in := range train {
		if in.Type == recommendations.Purchase {
			trainBuyers[in.CustomerID] = true
		}
	}
	for _, in := range test {
		if in.Type != recommendations.Purchase || !trainBuyers[in.CustomerID] {
			continue
		}
		rel := s.Relevant[in.CustomerID]
		if rel == nil {
			rel = map[string]bool{}
			s.Relevant[in.CustomerID] = rel
		}
		rel[in.ItemID] = true
	}
	for _, in := range train {
		if s.Relevant[in.CustomerID] == nil {
			continue
		}
		seen := s.Seen[in.CustomerID]
		if seen == nil {
			seen = map[string]bool{}
			s.Seen[in.CustomerID] = seen
		}
		seen[in.ItemID] = true
	}
	for u := range s.Relevant {
		s.Users = append(s.Users, u)
	}
	slices.SortFunc(s.Users, cmp.Compare[string])
	return s
}
