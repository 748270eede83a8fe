package events

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

func num(n int) *int { return &n }

func TestValidateEngagementAndFeedback(t *testing.T) {
	base := func(typ Type) Input {
		return Input{EventID: "e-1", Type: typ, CustomerID: "c-1", Timestamp: "2026-11-20T09:00:00Z"}
	}
	with := func(typ Type, f func(*Input)) Input {
		in := base(typ)
		f(&in)
		return in
	}
	cases := []struct {
		name  string
		in    Input
		wrong []string
	}{
		{"delivered needs a campaign", base(MessageDelivered), []string{"campaign_id"}},
		{"opened needs a campaign", base(MessageOpened), []string{"campaign_id"}},
		{"clicked needs a campaign", base(MessageClicked), []string{"campaign_id"}},
		{"unsubscribed needs a campaign", base(Unsubscribed), []string{"campaign_id"}},
		{"a campaign id follows the id rule", with(MessageOpened, func(in *Input) { in.CampaignID = "spring sale" }), []string{"campaign_id"}},
		{"a message", with(MessageClicked, func(in *Input) { in.CampaignID, in.Channel = "spring", "email" }), nil},
		{"feedback needs an answer", base(Feedback), []string{"rating"}},
		{"a rating alone", with(Feedback, func(in *Input) { in.Rating = num(1) }), nil},
		{"an NPS alone", with(Feedback, func(in *Input) { in.NPS = num(0) }), nil},
		{"rating out of range", with(Feedback, func(in *Input) { in.Rating = num(6) }), []string{"rating"}},
		{"rating zero", with(Feedback, func(in *Input) { in.Rating, in.NPS = num(0), num(5) }), []string{"rating"}},
		{"NPS out of range", with(Feedback, func(in *Input) { in.NPS = num(11) }), []string{"nps"}},
		{"negative NPS", with(Feedback, func(in *Input) { in.Rating, in.NPS = num(3), num(-1) }), []string{"nps"}},
		{"unknown topic", with(Feedback, func(in *Input) { in.Rating, in.Topic = num(3), "rant" }), []string{"topic"}},
		{"bad campaign", with(Feedback, func(in *Input) { in.Rating, in.CampaignID = num(3), "#1" }), []string{"campaign_id"}},
		{"comment too long", with(Feedback, func(in *Input) {
			in.Rating, in.Comment = num(3), strings.Repeat("é", MaxCommentLen+1)
		}), []string{"comment"}},
		{"comment with a control character", with(Feedback, func(in *Input) { in.Rating, in.Comment = num(3), "late\x00" }), []string{"comment"}},
		{"everything", with(Feedback, func(in *Input) {
			in.Rating, in.NPS, in.Topic, in.Comment, in.CampaignID = num(5), num(10), Praise, "Quick.\nThanks!", "spring"
		}), nil},
	}
	for _, c := range cases {
		_, err := Validate(c.in, now, "events[3].")
		var got []string
		for f := range fieldsOf(err) {
			got = append(got, strings.TrimPrefix(f, "events[3]."))
		}
		slices.Sort(got)
		if !slices.Equal(got, c.wrong) {
			t.Errorf("%s: errors %v, want %v (%v)", c.name, got, c.wrong, err)
		}
	}
}

func TestValidateCleansEngagementAndFeedback(t *testing.T) {
	// Fields a message or feedback does not use are dropped: no item,
	// quantity, price or order ever counts from them.
	in := Input{EventID: "e-1", Type: Feedback, CustomerID: "c-1", Timestamp: "2026-11-20T09:00:00Z", ItemID: "sku-1",
		Quantity: qty(2), Price: "oops", Currency: "GBP", OrderID: "o-1", Query: "q", Rating: num(4), NPS: num(0),
		Topic: Complaint, Comment: "  The parcel was late.\r\n  ", CampaignID: "spring", Properties: json.RawMessage(`{"survey":"post-purchase"}`)}
	e, err := Validate(in, now, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Event{ID: "e-1", Type: Feedback, CustomerID: "c-1", Time: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		Properties: `{"survey":"post-purchase"}`, CampaignID: "spring", Rating: 4, NPS: num(0), Topic: Complaint, Comment: "The parcel was late."}
	if e.Hash() != want.Hash() || e.ItemID != "" || e.Quantity != 0 || e.Currency != "" || *e.NPS != 0 {
		t.Fatalf("cleaned %+v", e)
	}
	// A view's stray campaign id and answers are dropped.
	v, err := Validate(Input{EventID: "e-2", Type: View, CustomerID: "c-1", ItemID: "sku-1", Timestamp: "2026-11-20T09:00:00Z",
		CampaignID: "spring", Rating: num(9), Comment: "x"}, now, "")
	if err != nil || v.CampaignID != "" || v.Rating != 0 || v.Comment != "" {
		t.Fatalf("view %+v %v", v, err)
	}
	m, err := Validate(Input{EventID: "e-3", Type: MessageOpened, AnonymousID: "a-1", CampaignID: "spring", ItemID: "sku-1",
		Timestamp: "2026-11-20T09:00:00Z"}, now, "")
	if err != nil || m.CampaignID != "spring" || m.ItemID != "" || m.Quantity != 0 {
		t.Fatalf("message %+v %v", m, err)
	}
}

// TestHashIsStable: hashes stored for events of the first six types never
// change (a resent event must stay a duplicate), and every new field
// changes the hash of a message or feedback event.
func TestHashIsStable(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)
	p := Event{ID: "e-1", Type: Purchase, CustomerID: "c-1", ItemID: "sku-1", Quantity: 2, PriceMinor: 1250, Currency: "GBP",
		OrderID: "o-1", Time: at, Channel: "web", Properties: `{"campaign_id":"spring"}`}
	s := Event{ID: "e-2", Type: Search, AnonymousID: "a-1", Query: "blue mug", Time: at}
	if p.Hash() != "57c5d06b201eada0479d6aa76e9c8dbc" || s.Hash() != "e64e4c7782df7e789c4340029cf08747" {
		t.Fatalf("hashes of stored events changed: %s %s", p.Hash(), s.Hash())
	}
	f := Event{ID: "e-3", Type: Feedback, CustomerID: "c-1", Time: at, Rating: 4, NPS: num(8), Topic: Question, Comment: "?", CampaignID: "c"}
	seen := map[string]bool{f.Hash(): true}
	for _, change := range []func(*Event){
		func(e *Event) { e.Rating = 5 },
		func(e *Event) { e.NPS = nil },
		func(e *Event) { e.NPS = num(0) },
		func(e *Event) { e.Topic = Praise },
		func(e *Event) { e.Comment = "!" },
		func(e *Event) { e.CampaignID = "d" },
	} {
		g := f
		change(&g)
		if seen[g.Hash()] {
			t.Errorf("a change left the hash as it was: %+v", g)
		}
		seen[g.Hash()] = true
	}
}

func TestDecodeNamesFieldsOfTheWrongType(t *testing.T) {
	for _, c := range []struct{ raw, field string }{
		{`{"event_id":"e-1","type":"feedback","rating":4.5}`, "events[2].rating"},
		{`{"event_id":"e-1","type":"feedback","nps":"9"}`, "events[2].nps"},
		{`{"event_id":"e-1","type":"view","quantity":"2"}`, "events[2].quantity"},
	} {
		_, err := Decode([]byte(c.raw), "events[2].")
		var e *errs.Error
		if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != c.field || e.Fields[0].Message != "must be a whole number" {
			t.Errorf("%s: %v", c.raw, err)
		}
	}
}

func TestFreeText(t *testing.T) {
	e := Event{ID: "e-1", Type: Feedback, Rating: 2, Comment: "call me on 07700 900123"}
	if !e.HasFreeText() || e.WithoutFreeText().HasFreeText() || e.WithoutFreeText().Rating != 2 {
		t.Fatal("the comment is free text")
	}
	r := e.ToRecord()
	if r.Comment != e.Comment || r.Rating != 2 {
		t.Fatalf("record %+v", r)
	}
}

func TestSatisfaction(t *testing.T) {
	var a, b Satisfaction
	for _, r := range []int{5, 4, 4} {
		a.AddRating(r)
	}
	for _, n := range []int{10, 9, 8, 6, 0} {
		b.AddNPS(NPSCategoryOf(n))
	}
	if _, ok := a.NPS(); ok {
		t.Fatal("an NPS without answers")
	}
	if _, ok := b.MeanRating(); ok {
		t.Fatal("a mean without ratings")
	}
	a.Merge(b)
	mean, ok1 := a.MeanRating()
	score, ok2 := a.NPS()
	// 13/3 = 4.333...; (2 promoters - 2 detractors) / 5 = 0.
	if !ok1 || !ok2 || mean != 4.33 || score != 0 || a.NPSAnswers() != 5 {
		t.Fatalf("%+v: mean %v nps %v", a, mean, score)
	}
	a.AddNPS(Promoter)
	if score, _ := a.NPS(); score != 16.7 { // 3 of 6 promoters, 2 detractors: 1/6
		t.Fatalf("nps %v", score)
	}
	for n, want := range map[int]NPSCategory{0: Detractor, 6: Detractor, 7: Passive, 8: Passive, 9: Promoter, 10: Promoter} {
		if NPSCategoryOf(n) != want {
			t.Errorf("NPS %d: %s", n, NPSCategoryOf(n))
		}
	}
}
