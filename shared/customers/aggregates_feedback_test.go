package customers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tailor/shared/events"
)

func nps(n int) *int { return &n }

// fb is a feedback event at minute min.
func fb(id string, min int, rating int, score *int, topic events.Topic) events.Event {
	return events.Event{ID: id, Type: events.Feedback, CustomerID: "c-1", Rating: rating, NPS: score, Topic: topic,
		Time: time.Date(2026, 11, 20, 10, min, 0, 0, time.UTC)}
}

func TestFeedbackAggregates(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 20, 10, min, 0, 0, time.UTC) }
	evs := []events.Event{
		fb("f1", 1, 2, nil, events.Complaint),
		fb("f2", 2, 0, nps(6), events.Question),
		fb("f3", 3, 5, nil, ""), // satisfied: closes f1
		fb("f4", 4, 0, nps(3), events.Complaint),
		fb("f5", 4, 3, nil, events.Suggestion), // same time as f4: the greater id is the later rating
		fb("f6", 6, 1, nil, events.Complaint),
		fb("f7", 6, 0, nps(9), events.Praise), // a promoter, at the same time as f6: f6 stays open, f4 closes
		{ID: "m1", Type: events.MessageDelivered, CustomerID: "c-1", CampaignID: "spring", Time: at(30)},
		{ID: "m2", Type: events.MessageOpened, CustomerID: "c-1", CampaignID: "spring", Time: at(20)},
	}
	a := Fold(evs)
	f := a.Feedback
	if f == nil || f.Count != 7 || f.OpenComplaints() != 1 || f.NPSCategory() != events.Promoter ||
		f.LastRating.Value != 1 || f.LastRating.EventID != "f6" || !f.SatisfiedAt.Equal(at(6)) {
		t.Fatalf("feedback %+v", f)
	}
	// Messages count as events; only the opened one says the customer was seen.
	if a.Events != 9 || !a.LastSeen.Equal(at(20)) || !a.FirstSeen.Equal(at(1)) || len(a.Recent) != 0 {
		t.Fatalf("aggregates %+v", a)
	}
	b, err := json.Marshal(a.Feedback)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"count":7,"by_topic":{"complaint":3,"praise":1,"question":1,"suggestion":1},` +
		`"last_rating":1,"last_rating_at":"2026-11-20T10:06:00Z","last_nps":9,"last_nps_at":"2026-11-20T10:06:00Z",` +
		`"nps_category":"promoter","open_complaints":1}`
	if string(b) != want {
		t.Fatalf("JSON\n got  %s\n want %s", b, want)
	}

	// Ties in time are broken by event id, whatever the order.
	tie := Fold([]events.Event{fb("b", 5, 4, nps(0), ""), fb("a", 5, 2, nps(10), "")}).Feedback
	if tie.LastRating.Value != 4 || tie.NPSCategory() != events.Detractor {
		t.Fatalf("tie %+v", tie)
	}
	// No feedback, no feedback object: the record stays as it was.
	if got, _ := json.Marshal(Fold(evs[7:8])); string(got) != `{"events":1,"orders":0,"units":0,"refunded_units":0,`+
		`"revenue":{},"refunds":{},"views":0,"cart_adds":0,"cart_removes":0,"searches":0,"category_affinity":{},"recent_interactions":[]}` {
		t.Fatalf("a delivered message alone: %s", got)
	}
}

func TestOpenComplaints(t *testing.T) {
	for _, c := range []struct {
		name string
		evs  []events.Event
		open int64
	}{
		{"none", []events.Event{fb("1", 1, 5, nil, events.Praise)}, 0},
		{"a complaint", []events.Event{fb("1", 1, 1, nil, events.Complaint)}, 1},
		{"closed by a later 4", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 2, 4, nil, "")}, 0},
		{"not by a later 3", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 2, 3, nil, "")}, 1},
		{"not by an earlier 5", []events.Event{fb("1", 1, 5, nil, ""), fb("2", 2, 1, nil, events.Complaint)}, 1},
		{"not by a 5 at the same time", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 1, 5, nil, "")}, 1},
		{"nor by its own 5", []events.Event{fb("1", 1, 5, nil, events.Complaint)}, 1},
		{"closed by a later promoter", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 2, 0, nps(9), "")}, 0},
		{"not by a later passive", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 2, 0, nps(8), "")}, 1},
		{"only those before", []events.Event{fb("1", 1, 1, nil, events.Complaint), fb("2", 2, 5, nil, ""),
			fb("3", 3, 2, nil, events.Complaint), fb("4", 4, 0, nps(2), events.Complaint)}, 2},
	} {
		backward := slices.Clone(c.evs)
		slices.Reverse(backward)
		for _, order := range [][]events.Event{c.evs, backward} {
			if got := Fold(order).Feedback.OpenComplaints(); got != c.open {
				t.Errorf("%s: %d open, want %d", c.name, got, c.open)
			}
		}
	}
}

// TestFeedbackMergesLikeTheFold: a visitor's feedback merged at login
// gives what folding every event gives, for many random splits.
func TestFeedbackMergesLikeTheFold(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	var evs []events.Event
	for i := range 300 {
		e := events.Event{ID: fmt.Sprintf("f%03d", i), CustomerID: "c-1", Time: time.Date(2026, 1, 1, r.IntN(24), 0, 0, 0, time.UTC)}
		randomFeedback(r, &e)
		evs = append(evs, e)
	}
	want := Fold(evs).Feedback
	if want.OpenComplaints() == 0 || want.Count != 300 {
		t.Fatalf("the history exercises too little: %+v", want)
	}
	for range 50 {
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		cut := r.IntN(len(evs))
		a, b := Fold(evs[:cut]), Fold(evs[cut:])
		a.Merge(b)
		ga, _ := json.Marshal(a.Feedback)
		gw, _ := json.Marshal(want)
		if string(ga) != string(gw) || !slices.Equal(a.Feedback.Complaints, want.Complaints) {
			t.Fatalf("merge at %d:\n %s\n %s", cut, ga, gw)
		}
	}
	c := want.clone()
	c.ByTopic[events.Praise] += 100
	c.LastRating.Value = 0
	c.Complaints[0] = time.Time{}
	if want.ByTopic[events.Praise] >= 100 || want.LastRating.Value == 0 || want.Complaints[0].IsZero() {
		t.Fatal("a clone shares state with its original")
	}
}
