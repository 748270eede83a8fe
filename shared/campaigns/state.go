package campaigns

import (
	"fmt"
	"time"

	"tailor/shared/platform/errs"
)

// Status is where a campaign is in its life:
//
//	draft ──launch──▶ launching ──snapshot written──▶ running ──stop──▶ stopped
//	                                                     │                 │
//	                                                     └──window closed──┴──▶ completed
//
// Only a draft can be changed or deleted. Launching materialises the
// audience once; running and stopped campaigns are measured until their
// attribution window closes, when the final report completes them.
type Status string

// The statuses.
const (
	Draft     Status = "draft"
	Launching Status = "launching"
	Running   Status = "running"
	Stopped   Status = "stopped"
	Completed Status = "completed"
)

// Launched reports whether the audience snapshot is complete: the
// campaign has members and can be measured.
func (s Status) Launched() bool { return s == Running || s == Stopped || s == Completed }

// ParseLaunchDay checks an as-of day for a launch: YYYY-MM-DD, not after
// today (UTC). "" is today.
func ParseLaunchDay(asOf string, now time.Time) (string, error) {
	today := now.UTC().Format(time.DateOnly)
	if asOf == "" {
		return today, nil
	}
	var v errs.Validator
	d, err := time.Parse(time.DateOnly, asOf)
	switch {
	case err != nil:
		v.Add("as_of", "must be a date, YYYY-MM-DD")
	case d.Format(time.DateOnly) > today:
		v.Add("as_of", "must not be after today (%s)", today)
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return asOf, nil
}

// StartLaunch moves a draft to launching as of day (see ParseLaunchDay),
// with the audience's scores taken from segmentation run runID. A launch
// already under way continues when asked for the same day (or none);
// asking for another day is a Conflict.
func (c *Campaign) StartLaunch(day string, dayGiven bool, runID string, now time.Time) error {
	switch c.Status {
	case Draft:
		c.Status = Launching
		c.Launch = &Launch{AsOf: day, StartedAt: now, SegmentRunID: runID}
		c.touch(now)
		return nil
	case Launching:
		if dayGiven && day != c.Launch.AsOf {
			return errs.E(errs.Conflict, fmt.Sprintf("campaign %s is being launched as of %s; it cannot be launched as of %s", c.ID, c.Launch.AsOf, day))
		}
		return nil
	}
	return nil
}

// TakeSnapshot records the materialised audience, stored as snapshotID,
// and its size per arm; a launch that already has a snapshot keeps it.
func (c *Campaign) TakeSnapshot(snapshotID string, treatment, holdout int, now time.Time) error {
	if c.Status.Launched() {
		return nil // another request finished the launch meanwhile
	}
	if c.Status != Launching || c.Launch == nil {
		return c.conflict("take the audience snapshot of")
	}
	if c.Launch.Snapshot {
		return nil
	}
	l := c.Launch
	l.Snapshot, l.SnapshotID, l.Treatment, l.Holdout, l.Members, l.Written = true, snapshotID, treatment, holdout, treatment+holdout, 0
	c.touch(now)
	return nil
}

// Progress moves the launch cursor to written members, never back. When
// every member is written it records the launch time, once, so that a
// retried announcement carries the time of the first.
func (c *Campaign) Progress(written int, now time.Time) error {
	if c.Status.Launched() {
		return nil
	}
	if c.Status != Launching || c.Launch == nil || !c.Launch.Snapshot {
		return c.conflict("record launch progress of")
	}
	l := c.Launch
	if written > l.Written {
		l.Written = min(written, l.Members)
		c.touch(now)
	}
	if l.Written == l.Members && l.LaunchedAt == nil {
		l.LaunchedAt = &now
		c.touch(now)
	}
	return nil
}

// MembersWritten reports whether a launch has stored every member of its
// snapshot, so only the announcement is left.
func (c *Campaign) MembersWritten() bool {
	return c.Launch != nil && c.Launch.Snapshot && c.Launch.LaunchedAt != nil
}

// FinishLaunch moves a launching campaign whose members are all written
// to running, recording that campaign.launched was published. A campaign
// another request launched meanwhile stays as it is.
func (c *Campaign) FinishLaunch(now time.Time) error {
	if c.Status.Launched() {
		return nil
	}
	if c.Status != Launching || !c.MembersWritten() {
		return c.conflict("finish the launch of")
	}
	c.Status = Running
	c.Launch.Announced = true
	c.touch(now)
	return nil
}

// Stop stops a running campaign: messaging tools stop reaching the
// treatment arm. The measurement continues until the window closes.
// Stopping a stopped campaign changes nothing.
func (c *Campaign) Stop(now time.Time) error {
	switch c.Status {
	case Stopped:
		return nil
	case Running:
		c.Status = Stopped
		c.StoppedAt = &now
		c.touch(now)
		return nil
	}
	return c.conflict("stop")
}

// Complete marks a measured campaign whose window has closed as
// completed; completing a completed campaign changes nothing.
func (c *Campaign) Complete(now time.Time) error {
	switch c.Status {
	case Completed:
		return nil
	case Running, Stopped:
		w, _ := c.Window()
		if now.Before(w.End) {
			return errs.E(errs.Conflict, fmt.Sprintf("campaign %s's attribution window is open until %s", c.ID, w.End.Format(time.DateOnly)))
		}
		c.Status = Completed
		c.CompletedAt = &now
		c.touch(now)
		return nil
	}
	return c.conflict("complete")
}

// CheckDeletable refuses to delete anything but a draft.
func (c *Campaign) CheckDeletable() error {
	if c.Status != Draft {
		return c.conflict("delete")
	}
	return nil
}

func (c *Campaign) touch(now time.Time) {
	c.Version++
	c.UpdatedAt = now
}

func (c *Campaign) conflict(what string) error {
	return errs.E(errs.Conflict, fmt.Sprintf("cannot %s campaign %s: it is %s", what, c.ID, c.Status))
}
