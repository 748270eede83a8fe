package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Interaction is one row of a generic interactions file: a user touched an
// item at a time, with an optional strength.
type Interaction struct {
	Line   int // 1-based line number in the file
	User   string
	Item   string
	Time   time.Time // UTC
	Weight float64   // 1 when the column is absent or empty
}

// ReadInteractions streams a CSV of user,item,timestamp[,weight] rows
// (gzip-compressed or plain) and calls yield for each. A header row is
// recognised by its timestamp not parsing and is skipped. Timestamps may be
// RFC 3339, "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD" (both read as UTC), or Unix
// seconds. Unlike the Online Retail reader this format has no cleaning rules,
// so a bad row is an error naming its line: a generic export that does not
// parse is better rejected than half-read.
func ReadInteractions(r io.Reader, yield func(Interaction) error) error {
	in, err := maybeGunzip(r)
	if err != nil {
		return fmt.Errorf("interactions: %w", err)
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	line := 0
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line++
		if err != nil {
			return fmt.Errorf("interactions: line %d: %w", line, err)
		}
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		if len(row) < 3 || len(row) > 4 {
			return fmt.Errorf("interactions: line %d: %d columns, want user,item,timestamp[,weight]", line, len(row))
		}
		ts, terr := parseTimestamp(strings.TrimSpace(row[2]))
		if terr != nil {
			if line == 1 {
				continue // header
			}
			return fmt.Errorf("interactions: line %d: %w", line, terr)
		}
		it := Interaction{Line: line, User: strings.TrimSpace(row[0]), Item: strings.TrimSpace(row[1]), Time: ts, Weight: 1}
		if it.User == "" || it.Item == "" {
			return fmt.Errorf("interactions: line %d: empty user or item", line)
		}
		if len(row) == 4 && strings.TrimSpace(row[3]) != "" {
			w, err := strconv.ParseFloat(strings.TrimSpace(row[3]), 64)
			if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
				return fmt.Errorf("interactions: line %d: weight %q is not a finite number", line, row[3])
			}
			it.Weight = w
		}
		if err := yield(it); err != nil {
			return err
		}
	}
}

func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty timestamp")
	}
	if allDigits(s) {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: want RFC 3339, YYYY-MM-DD[ HH:MM:SS] or Unix seconds", s)
}
