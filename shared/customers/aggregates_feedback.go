package customers

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"tailor/shared/events"
)

// Answer is one answer of a customer's feedback (a rating or an NPS
// score) with the time and event id that order answers: the latest answer
// is the one with the latest time, and of two at the same time the one
// with the greater event id, so "latest" does not depend on arrival order.
type Answer struct {
	Value   int       `dynamodbav:"v"`
	At      time.Time `dynamodbav:"at"`
	EventID string    `dynamodbav:"e"`
}

// after reports whether a is later than b (nil is earliest).
func (a *Answer) after(b *Answer) bool {
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	if c := a.At.Compare(b.At); c != 0 {
		return c > 0
	}
	return strings.Compare(a.EventID, b.EventID) > 0
}

// latest returns the later of a and b.
func latest(a, b *Answer) *Answer {
	if b.after(a) {
		c := *b
		return &c
	}
	return a
}

// Feedback is what ingestion keeps of a customer's feedback events. Like
// the rest of the aggregates it is a function of the set of events: counts
// are sums, the last answers are maxima by (time, event id), and the open
// complaints are the complaints later than the latest satisfied answer.
//
// A complaint is open until the customer gives a satisfied answer
// (events.Satisfied: a rating of 4 or 5, or an NPS of 9 or 10) in a
// feedback event strictly later than the complaint. Nothing else closes
// it: Tailor has no case handling, so this is the customer's own word.
type Feedback struct {
	// Count counts feedback events; ByTopic those with a topic, per topic.
	Count   int64                  `dynamodbav:"n"`
	ByTopic map[events.Topic]int64 `dynamodbav:"topics"`
	// LastRating and LastNPS are the latest rating and NPS answer; nil
	// before the first.
	LastRating *Answer `dynamodbav:"rating,omitempty"`
	LastNPS    *Answer `dynamodbav:"nps,omitempty"`
	// SatisfiedAt is the time of the latest satisfied answer; zero before
	// the first.
	SatisfiedAt time.Time `dynamodbav:"satisfied_at,omitempty"`
	// Complaints holds the times of the complaints not before SatisfiedAt,
	// oldest first: the open ones. It grows only while complaints go
	// unanswered (about 40 bytes each).
	Complaints []time.Time `dynamodbav:"open,omitempty"`
}

// NPSCategory is the category of the latest NPS answer; "" before the
// first.
func (f *Feedback) NPSCategory() events.NPSCategory {
	if f.LastNPS == nil {
		return ""
	}
	return events.NPSCategoryOf(f.LastNPS.Value)
}

// OpenComplaints is the number of open complaints.
func (f *Feedback) OpenComplaints() int64 { return int64(len(f.Complaints)) }

// feedbackJSON is the API form of Feedback.
type feedbackJSON struct {
	Count          int64                  `json:"count"`
	ByTopic        map[events.Topic]int64 `json:"by_topic"`
	LastRating     int                    `json:"last_rating,omitempty"`
	LastRatingAt   time.Time              `json:"last_rating_at,omitzero"`
	LastNPS        *int                   `json:"last_nps,omitempty"`
	LastNPSAt      time.Time              `json:"last_nps_at,omitzero"`
	NPSCategory    events.NPSCategory     `json:"nps_category,omitempty"`
	OpenComplaints int64                  `json:"open_complaints"`
}

// MarshalJSON writes the counts, the last rating and NPS answer with their
// times, the NPS category and the number of open complaints.
func (f Feedback) MarshalJSON() ([]byte, error) {
	out := feedbackJSON{Count: f.Count, ByTopic: f.ByTopic, NPSCategory: f.NPSCategory(), OpenComplaints: f.OpenComplaints()}
	if out.ByTopic == nil {
		out.ByTopic = map[events.Topic]int64{}
	}
	if r := f.LastRating; r != nil {
		out.LastRating, out.LastRatingAt = r.Value, r.At
	}
	if n := f.LastNPS; n != nil {
		v := n.Value
		out.LastNPS, out.LastNPSAt = &v, n.At
	}
	return json.Marshal(out)
}

// clone returns a deep copy of f.
func (f *Feedback) clone() *Feedback {
	if f == nil {
		return nil
	}
	c := *f
	c.ByTopic = maps.Clone(f.ByTopic)
	if c.ByTopic == nil {
		c.ByTopic = map[events.Topic]int64{}
	}
	c.LastRating = latest(nil, f.LastRating)
	c.LastNPS = latest(nil, f.LastNPS)
	c.Complaints = slices.Clone(f.Complaints)
	return &c
}

// apply folds one feedback event into f.
func (f *Feedback) apply(e events.Event) {
	f.Count++
	if e.Topic != "" {
		f.ByTopic[e.Topic]++
	}
	if e.Rating != 0 {
		f.LastRating = latest(f.LastRating, &Answer{Value: e.Rating, At: e.Time, EventID: e.ID})
	}
	if e.NPS != nil {
		f.LastNPS = latest(f.LastNPS, &Answer{Value: *e.NPS, At: e.Time, EventID: e.ID})
	}
	if events.Satisfied(e) && e.Time.After(f.SatisfiedAt) {
		f.SatisfiedAt = e.Time
	}
	if e.Topic == events.Complaint {
		f.Complaints = append(f.Complaints, e.Time)
	}
	f.settle()
}

// merge folds o, the feedback of a disjoint set of events, into f.
func (f *Feedback) merge(o *Feedback) {
	f.Count += o.Count
	for t, n := range o.ByTopic {
		f.ByTopic[t] += n
	}
	f.LastRating = latest(f.LastRating, o.LastRating)
	f.LastNPS = latest(f.LastNPS, o.LastNPS)
	if o.SatisfiedAt.After(f.SatisfiedAt) {
		f.SatisfiedAt = o.SatisfiedAt
	}
	f.Complaints = append(f.Complaints, o.Complaints...)
	f.settle()
}

// settle closes the complaints made before the latest satisfied answer
// (one made at the same time stays open) and sorts the open ones; a
// complaint closed once stays closed, since SatisfiedAt only grows.
func (f *Feedback) settle() {
	open := f.Complaints[:0]
	for _, t := range f.Complaints {
		if !t.Before(f.SatisfiedAt) {
			open = append(open, t)
		}
	}
	slices.SortFunc(open, time.Time.Compare)
	f.Complaints = slices.Clip(open)
	if len(f.Complaints) == 0 {
		f.Complaints = nil
	}
}
