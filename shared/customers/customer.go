// Package customers defines the customer record (profile, consent, tags) and
// the rules for creating and changing it. It does no I/O: storage and
// transport call it with the current record and the time.
package customers

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
)

// Profile is what a customer told the retailer about themselves. Every
// field is optional; empty means unknown.
type Profile struct {
	Name          string `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Email         string `json:"email,omitempty" dynamodbav:"email,omitempty"`
	Phone         string `json:"phone,omitempty" dynamodbav:"phone,omitempty"`
	BirthYear     int    `json:"birth_year,omitempty" dynamodbav:"birth_year,omitempty"`
	Gender        string `json:"gender,omitempty" dynamodbav:"gender,omitempty"`
	City          string `json:"city,omitempty" dynamodbav:"city,omitempty"`
	Country       string `json:"country,omitempty" dynamodbav:"country,omitempty"`
	SignupChannel string `json:"signup_channel,omitempty" dynamodbav:"signup_channel,omitempty"`
}

// ConsentState records one consent and when it was last given or withdrawn.
type ConsentState struct {
	Granted   bool      `json:"granted" dynamodbav:"granted"`
	UpdatedAt time.Time `json:"updated_at" dynamodbav:"updated_at"`
}

// Consent purposes a customer can grant or withdraw.
const (
	ConsentEmail           = "email"
	ConsentSMS             = "sms"
	ConsentPersonalization = "personalization"
)

// Purposes lists the consent purposes in a stable order.
var Purposes = []string{ConsentEmail, ConsentSMS, ConsentPersonalization}

// Genders lists accepted values of Profile.Gender.
var Genders = []string{"female", "male", "non_binary", "other", "undisclosed"}

// SignupChannels lists accepted values of Profile.SignupChannel.
var SignupChannels = []string{"web", "app", "store", "phone", "marketplace", "other"}

// Customer is the record about one customer that the API exposes.
// Version counts changes made through the API and backs ETags; changes
// made by event ingestion do not bump it.
type Customer struct {
	ID        string                  `json:"customer_id"`
	Profile   Profile                 `json:"profile"`
	Consent   map[string]ConsentState `json:"consent"`
	Tags      []string                `json:"tags"`
	Version   int64                   `json:"version"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
	// Aggregates are kept by event ingestion; nil until the first event.
	Aggregates *Aggregates `json:"aggregates,omitempty"`
	// Scores are the latest nightly segmentation's; nil until a run scored
	// the customer (see scores.go).
	Scores *Scores `json:"scores,omitempty"`
	// PIIMasked says the profile's personal fields were masked because
	// the caller's key lacks pii:read (see Masked).
	PIIMasked bool `json:"pii_masked,omitempty"`
}

// Replacement is the body of PUT: the whole profile, consent and tags.
type Replacement struct {
	Profile Profile         `json:"profile"`
	Consent map[string]bool `json:"consent"`
	Tags    []string        `json:"tags"`
}

// ProfilePatch changes the named profile fields; an empty string (or 0 for
// birth_year) clears a field, an absent field is left alone.
type ProfilePatch struct {
	Name          *string `json:"name"`
	Email         *string `json:"email"`
	Phone         *string `json:"phone"`
	BirthYear     *int    `json:"birth_year"`
	Gender        *string `json:"gender"`
	City          *string `json:"city"`
	Country       *string `json:"country"`
	SignupChannel *string `json:"signup_channel"`
}

// TagsPatch adds and removes tags.
type TagsPatch struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

// Patch is the body of PATCH.
type Patch struct {
	Profile *ProfilePatch   `json:"profile"`
	Consent map[string]bool `json:"consent"`
	Tags    *TagsPatch      `json:"tags"`
}

// Limits on the record.
const (
	MaxTags      = 50
	MaxTagLen    = 64
	MaxNameLen   = 200
	MaxCityLen   = 100
	MaxEmailLen  = 254
	minBirthYear = 1900
)

var (
	phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	tagRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_:.-]*$`)
)

// ValidateID checks a customer id.
func ValidateID(customerID string) error {
	if !id.Valid(customerID) {
		var v errs.Validator
		v.Add("customer_id", "must be %s", id.Rule)
		return v.Err()
	}
	return nil
}

// Replace returns the record after a PUT: cur is the stored record, or nil
// when there is none. Consent times move only when a consent changes.
func Replace(customerID string, cur *Customer, r Replacement, now time.Time) (*Customer, error) {
	var v errs.Validator
	checkProfile(&v, r.Profile, now)
	checkConsent(&v, r.Consent)
	checkTags(&v, "tags", r.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	next := start(customerID, cur, now)
	next.Profile = r.Profile
	applyConsent(next, r.Consent, now)
	next.Tags = normalTags(r.Tags)
	if len(next.Tags) > MaxTags {
		return nil, tooManyTags()
	}
	return next, nil
}

// Apply returns the record after a PATCH of cur.
func Apply(cur *Customer, p Patch, now time.Time) (*Customer, error) {
	var v errs.Validator
	if p.Profile == nil && p.Consent == nil && p.Tags == nil {
		v.Add("body", "must change at least one of profile, consent, tags")
	}
	next := start(cur.ID, cur, now)
	if p.Profile != nil {
		next.Profile = patchProfile(cur.Profile, *p.Profile)
		checkProfile(&v, next.Profile, now)
	}
	checkConsent(&v, p.Consent)
	if p.Tags != nil {
		checkTags(&v, "tags.add", p.Tags.Add)
		checkTags(&v, "tags.remove", p.Tags.Remove)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	applyConsent(next, p.Consent, now)
	if p.Tags != nil {
		tags := slices.Concat(cur.Tags, p.Tags.Add)
		tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(p.Tags.Remove, t) })
		next.Tags = normalTags(tags)
		if len(next.Tags) > MaxTags {
			return nil, tooManyTags()
		}
	}
	return next, nil
}

func tooManyTags() error {
	var v errs.Validator
	v.Add("tags", "at most %d tags", MaxTags)
	return v.Err()
}

// start copies cur (or begins a new record) and stamps the change.
func start(customerID string, cur *Customer, now time.Time) *Customer {
	next := &Customer{ID: customerID, CreatedAt: now, Consent: map[string]ConsentState{}}
	if cur != nil {
		c := *cur
		c.Consent = map[string]ConsentState{}
		for k, s := range cur.Consent {
			c.Consent[k] = s
		}
		c.Tags = slices.Clone(cur.Tags)
		next = &c
		if next.CreatedAt.IsZero() {
			next.CreatedAt = now
		}
	}
	next.Version++
	next.UpdatedAt = now
	return next
}

func applyConsent(c *Customer, set map[string]bool, now time.Time) {
	for purpose, granted := range set {
		if old, ok := c.Consent[purpose]; ok && old.Granted == granted {
			continue
		}
		c.Consent[purpose] = ConsentState{Granted: granted, UpdatedAt: now}
	}
}

func patchProfile(p Profile, d ProfilePatch) Profile {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.Name, d.Name)
	set(&p.Email, d.Email)
	set(&p.Phone, d.Phone)
	set(&p.Gender, d.Gender)
	set(&p.City, d.City)
	set(&p.Country, d.Country)
	set(&p.SignupChannel, d.SignupChannel)
	if d.BirthYear != nil {
		p.BirthYear = *d.BirthYear
	}
	return p
}

func checkProfile(v *errs.Validator, p Profile, now time.Time) {
	if p.Name != "" {
		v.Check(printable(p.Name) && utf8.RuneCountInString(p.Name) <= MaxNameLen,
			"profile.name", "must be printable text of at most %d characters", MaxNameLen)
	}
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		v.Check(err == nil && a.Address == p.Email && len(p.Email) <= MaxEmailLen && strings.Contains(p.Email[strings.LastIndex(p.Email, "@"):], "."),
			"profile.email", "must be a plain address such as name@example.com")
	}
	if p.Phone != "" {
		v.Check(phoneRE.MatchString(p.Phone), "profile.phone", "must be in E.164 form such as +447700900123")
	}
	if p.BirthYear != 0 {
		v.Check(p.BirthYear >= minBirthYear && p.BirthYear <= now.Year(), "profile.birth_year",
			"must be between %d and %d", minBirthYear, now.Year())
	}
	if p.Gender != "" {
		v.Check(slices.Contains(Genders, p.Gender), "profile.gender", "must be one of %s", strings.Join(Genders, ", "))
	}
	if p.City != "" {
		v.Check(printable(p.City) && utf8.RuneCountInString(p.City) <= MaxCityLen,
			"profile.city", "must be printable text of at most %d characters", MaxCityLen)
	}
	if p.Country != "" {
		v.Check(len(p.Country) == 2 && isUpper(p.Country), "profile.country",
			"must be an ISO 3166-1 alpha-2 code such as GB")
	}
	if p.SignupChannel != "" {
		v.Check(slices.Contains(SignupChannels, p.SignupChannel), "profile.signup_channel",
			"must be one of %s", strings.Join(SignupChannels, ", "))
	}
}

func checkConsent(v *errs.Validator, c map[string]bool) {
	for purpose := range c {
		v.Check(slices.Contains(Purposes, purpose), "consent."+purpose,
			"unknown purpose; use %s", strings.Join(Purposes, ", "))
	}
}

func checkTags(v *errs.Validator, field string, tags []string) {
	if len(tags) > MaxTags {
		v.Add(field, "at most %d tags", MaxTags)
		return
	}
	for i, t := range tags {
		if len(t) > MaxTagLen || !tagRE.MatchString(t) {
			v.Add(field, "tag %d must be 1 to %d characters from a-z 0-9 _ : . - starting with a letter or digit", i, MaxTagLen)
		}
	}
}

func normalTags(tags []string) []string {
	out := slices.Clone(tags)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func printable(s string) bool {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
