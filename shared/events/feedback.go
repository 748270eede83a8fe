package events

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Topic says what a feedback event is about, in the terms of a CRM's
// customer service.
type Topic string

// The feedback topics.
const (
	Complaint  Topic = "complaint"
	Question   Topic = "question"
	Suggestion Topic = "suggestion"
	Praise     Topic = "praise"
)

// Topics lists every feedback topic in a stable order.
var Topics = []Topic{Complaint, Question, Suggestion, Praise}

// Ranges of a feedback event's answers.
const (
	// MinRating and MaxRating bound a rating (stars).
	MinRating, MaxRating = 1, 5
	// MinNPS and MaxNPS bound an answer to the Net Promoter question
	// ("how likely are you to recommend us", 0 to 10).
	MinNPS, MaxNPS = 0, 10
	// MaxCommentLen caps a feedback comment in characters.
	MaxCommentLen = 2000
)

// NPSCategory is where an NPS answer puts the customer.
type NPSCategory string

// The NPS categories: 9-10 promoter, 7-8 passive, 0-6 detractor.
const (
	Promoter  NPSCategory = "promoter"
	Passive   NPSCategory = "passive"
	Detractor NPSCategory = "detractor"
)

// NPSCategoryOf returns the category of an NPS answer (0 to 10).
func NPSCategoryOf(score int) NPSCategory {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	}
	return Detractor
}

// SatisfiedRating is the lowest rating that says the customer is
// satisfied: such a rating (or a promoter's NPS answer) closes the
// complaints made before it.
const SatisfiedRating = 4

// Satisfied reports whether a feedback event says the customer is
// satisfied: a rating of SatisfiedRating or more, or an NPS answer of a
// promoter.
func Satisfied(e Event) bool {
	return e.Type == Feedback && (e.Rating >= SatisfiedRating || (e.NPS != nil && NPSCategoryOf(*e.NPS) == Promoter))
}

// cleanComment trims a comment and reports whether it is acceptable:
// printable text (line breaks and tabs allowed) of at most MaxCommentLen
// characters.
func cleanComment(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxCommentLen {
		return s, false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return s, false
		}
	}
	return s, true
}

// IsTopic reports whether t names a feedback topic.
func IsTopic(t Topic) bool { return slices.Contains(Topics, t) }

// Satisfaction sums answers to the two satisfaction questions: ratings
// (their count and sum) and NPS answers by category. All integers, so
// summaries of parts merge exactly and in any order. The zero value is
// empty.
type Satisfaction struct {
	Ratings    int64 `json:"ratings"`
	RatingSum  int64 `json:"rating_sum"`
	Promoters  int64 `json:"promoters"`
	Passives   int64 `json:"passives"`
	Detractors int64 `json:"detractors"`
}

// AddRating counts one rating (MinRating to MaxRating).
func (s *Satisfaction) AddRating(rating int) {
	s.Ratings++
	s.RatingSum += int64(rating)
}

// AddNPS counts one NPS answer by its category.
func (s *Satisfaction) AddNPS(c NPSCategory) {
	switch c {
	case Promoter:
		s.Promoters++
	case Passive:
		s.Passives++
	case Detractor:
		s.Detractors++
	}
}

// Merge adds o to s.
func (s *Satisfaction) Merge(o Satisfaction) {
	s.Ratings += o.Ratings
	s.RatingSum += o.RatingSum
	s.Promoters += o.Promoters
	s.Passives += o.Passives
	s.Detractors += o.Detractors
}

// NPSAnswers is the number of NPS answers counted.
func (s Satisfaction) NPSAnswers() int64 { return s.Promoters + s.Passives + s.Detractors }

// MeanRating is the mean of the ratings counted, rounded to two decimals;
// false when there are none.
func (s Satisfaction) MeanRating() (float64, bool) {
	if s.Ratings == 0 {
		return 0, false
	}
	return math.Round(float64(s.RatingSum)/float64(s.Ratings)*100) / 100, true
}

// NPS is the Net Promoter Score of the answers counted: the percentage of
// promoters minus the percentage of detractors, -100 to 100, rounded to
// one decimal; false when there are no answers.
func (s Satisfaction) NPS() (float64, bool) {
	n := s.NPSAnswers()
	if n == 0 {
		return 0, false
	}
	return math.Round(float64(s.Promoters-s.Detractors)/float64(n)*1000) / 10, true
}
