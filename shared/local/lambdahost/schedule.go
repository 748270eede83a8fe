package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"tailor/shared/local/samtemplate"
	"tailor/shared/local/schedule"
)

// The template's schedules (samtemplate.Resolver.Schedules): with
// Config.Schedules the server fires each enabled one on its expression, as
// EventBridge does, invoking its function targets asynchronously with the
// scheduled event (or the target's constant Input) and retrying a failed
// invocation twice, after one and then two minutes, as Lambda retries
// asynchronous invocations. InvokeSchedule, and POST
// /_tailor/schedules/{name} for tailor invoke-schedule, fire one at once
// and wait for the answers. State machine targets are not run.

// Paths of the schedules endpoint; no template route starts with /_tailor.
const schedulesPath = "/_tailor/schedules"

// asyncRetryDelays are Lambda's waits before retrying a failed
// asynchronous invocation.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// scheduled is one schedule ready to fire.
type scheduled struct {
	def  samtemplate.Schedule
	expr nexter
}

// nexter says when a schedule fires next (schedule.Expression does).
type nexter interface {
	// Next returns the first firing strictly after t, zero for none.
	Next(t time.Time) time.Time
}

// newSchedules reads the template's schedules and their expressions; an
// expression EventBridge would refuse fails the start, as it fails a
// deployment.
func (s *Server) newSchedules() error {
	defs, err := s.resolver.Schedules()
	if err != nil {
		return err
	}
	for _, d := range defs {
		var loc *time.Location
		if d.Timezone != "" {
			if loc, err = time.LoadLocation(d.Timezone); err != nil {
				return fmt.Errorf("schedule %s: time zone: %w", d.Name, err)
			}
		}
		expr, err := schedule.Parse(d.Expression, loc)
		if err != nil {
			return fmt.Errorf("schedule %s: %w", d.Name, err)
		}
		s.schedules = append(s.schedules, &scheduled{def: d, expr: expr})
	}
	return nil
}

// ScheduleInfo describes one of the template's schedules.
type ScheduleInfo struct {
	Name       string   `json:"name"`
	Expression string   `json:"expression"`
	Enabled    bool     `json:"enabled"`
	Targets    []string `json:"targets"`
	// Next is the next firing when the server fires schedules
	// (Config.Schedules) and this one is enabled; zero otherwise.
	Next time.Time `json:"next,omitzero"`
	// Unsupported says why the local runner cannot run some target, ""
	// when it runs them all.
	Unsupported string `json:"unsupported,omitempty"`
}

// Schedules describes the template's schedules in name order.
func (s *Server) Schedules() []ScheduleInfo {
	out := make([]ScheduleInfo, 0, len(s.schedules))
	for _, sc := range s.schedules {
		info := ScheduleInfo{Name: sc.def.Name, Expression: sc.def.Expression, Enabled: sc.def.Enabled}
		for _, t := range sc.def.Targets {
			name := t.LogicalID
			if name == "" {
				name = t.ARN
			}
			info.Targets = append(info.Targets, name)
			if why := s.unsupported(t); why != "" && info.Unsupported == "" {
				info.Unsupported = why
			}
		}
		s.schedMu.Lock()
		info.Next = s.nextFire[sc.def.Name]
		s.schedMu.Unlock()
		out = append(out, info)
	}
	return out
}

// unsupported says why a target cannot run locally, "" when it can.
func (s *Server) unsupported(t samtemplate.ScheduleTarget) string {
	switch {
	case t.Type == samtemplate.TypeStateMachine:
		return "state machine targets (" + t.LogicalID + ") are not run locally; invoke its function with each state's input instead"
	case t.Unsupported != "":
		return t.Unsupported + " on target " + t.ID + " is not emulated"
	case t.Type != samtemplate.TypeFunction || s.functions[t.LogicalID] == nil:
		return "target " + t.ARN + " is not a function of the template"
	}
	return ""
}

// ErrUnknownSchedule is returned for a name that is no schedule of the
// template.
var ErrUnknownSchedule = errors.New("no such schedule in the template")

// ErrUnsupportedTarget is returned when a schedule has no target the local
// runner can invoke.
var ErrUnsupportedTarget = errors.New("no target of the schedule runs locally")

// findSchedule accepts a schedule's name (TrainFunctionNightly,
// ScoreNightlyRule) or, when only one schedule has it, its event's name
// (Refresh).
func (s *Server) findSchedule(name string) (*scheduled, error) {
	var byEvent []*scheduled
	for _, sc := range s.schedules {
		if sc.def.Name == name {
			return sc, nil
		}
		if sc.def.Event == name {
			byEvent = append(byEvent, sc)
		}
	}
	if len(byEvent) == 1 {
		return byEvent[0], nil
	}
	names := make([]string, len(s.schedules))
	for i, sc := range s.schedules {
		names[i] = sc.def.Name
	}
	if len(byEvent) > 1 {
		return nil, fmt.Errorf("%q names the events of several schedules; use one of %s: %w", name, strings.Join(names, ", "), ErrUnknownSchedule)
	}
	return nil, fmt.Errorf("%q (schedules: %s): %w", name, strings.Join(names, ", "), ErrUnknownSchedule)
}

// TargetResult is what one target of a fired schedule did.
type TargetResult struct {
	// Target is the target's logical id (or ARN when the template has
	// none for it).
	Target string
	// Skipped says why the target did not run; Result is empty then.
	Skipped string
	Result  Result
}

// InvokeSchedule fires the named schedule once, now, as if at time at
// (the scheduled event's time; the current time when zero), whether it is
// enabled or not, and waits for every target's answer. There are no
// retries. The error is set only when nothing could be invoked.
func (s *Server) InvokeSchedule(ctx context.Context, name string, at time.Time) ([]TargetResult, error) {
	sc, err := s.findSchedule(name)
	if err != nil {
		return nil, fmt.Errorf("invoke schedule: %w", err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	var out []TargetResult
	ran := false
	for _, t := range sc.def.Targets {
		r := TargetResult{Target: t.LogicalID}
		if r.Target == "" {
			r.Target = t.ARN
		}
		if why := s.unsupported(t); why != "" {
			r.Skipped = why
			out = append(out, r)
			continue
		}
		payload, err := s.schedulePayload(sc, t, at)
		if err != nil {
			return nil, fmt.Errorf("invoke schedule %s: %w", sc.def.Name, err)
		}
		if r.Result, err = s.functions[t.LogicalID].pool.invoke(ctx, payload); err != nil {
			return nil, fmt.Errorf("invoke schedule %s: %s: %w", sc.def.Name, t.LogicalID, err)
		}
		ran = true
		out = append(out, r)
	}
	if !ran {
		return out, fmt.Errorf("invoke schedule %s: %s: %w", sc.def.Name, out[0].Skipped, ErrUnsupportedTarget)
	}
	return out, nil
}

// schedulePayload is what a target receives: its constant Input, or the
// event EventBridge sends for a scheduled rule (the event of
// events/train/scheduled.json), whose time the nightly jobs read their
// as-of date from. A ScheduleV2 target without Input gets {}.
func (s *Server) schedulePayload(sc *scheduled, t samtemplate.ScheduleTarget, at time.Time) ([]byte, error) {
	if t.Input != "" {
		if !json.Valid([]byte(t.Input)) {
			return nil, fmt.Errorf("target %s: Input is not JSON", t.ID)
		}
		return []byte(t.Input), nil
	}
	if sc.def.Type == "ScheduleV2" {
		return []byte("{}"), nil
	}
	return json.Marshal(scheduledEvent{
		Version:    "0",
		ID:         newID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		Account:    samtemplate.DefaultAccountID,
		Time:       at.UTC().Truncate(time.Second),
		Region:     s.cfg.Region,
		Resources:  []string{sc.def.ARN},
		Detail:     json.RawMessage("{}"),
	})
}

// scheduledEvent is the envelope a scheduled rule's target receives (the
// shape of aws-lambda-go's events.CloudWatchEvent).
type scheduledEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// startSchedules starts one timer loop per enabled schedule; they stop
// when the server closes. s.mu must be held, as for startMappings.
func (s *Server) startSchedules(ctx context.Context) {
	now := time.Now()
	for _, sc := range s.schedules {
		if !sc.def.Enabled {
			continue
		}
		var why string
		for _, t := range sc.def.Targets {
			if why = s.unsupported(t); why == "" {
				break
			}
		}
		if why != "" {
			s.log.Warn("schedule not fired locally", "schedule", sc.def.Name, "reason", why)
			continue
		}
		next := sc.expr.Next(now)
		if next.IsZero() {
			continue
		}
		s.setNext(sc.def.Name, next)
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.runSchedule(ctx, sc, next)
		}()
		s.log.Info("schedule armed", "schedule", sc.def.Name, "expression", sc.def.Expression, "next", next.UTC().Format(time.RFC3339))
	}
}

func (s *Server) setNext(name string, t time.Time) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	if t.IsZero() {
		delete(s.nextFire, name)
		return
	}
	s.nextFire[name] = t
}

// runSchedule fires sc at next and every firing after, until ctx ends.
// Firings missed while the machine slept are skipped, not caught up, as
// EventBridge never fires a rule late in bulk.
func (s *Server) runSchedule(ctx context.Context, sc *scheduled, next time.Time) {
	for !next.IsZero() {
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		s.fire(ctx, sc, next)
		now := time.Now()
		for !next.IsZero() && !next.After(now) {
			next = sc.expr.Next(next)
		}
		s.setNext(sc.def.Name, next)
	}
}

// fire invokes every target of sc asynchronously with Lambda's retries.
func (s *Server) fire(ctx context.Context, sc *scheduled, at time.Time) {
	for _, t := range sc.def.Targets {
		if s.unsupported(t) != "" {
			continue
		}
		payload, err := s.schedulePayload(sc, t, at)
		if err != nil {
			s.log.Error("schedule not fired", "schedule", sc.def.Name, "err", err)
			continue
		}
		fn := s.functions[t.LogicalID]
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			for attempt := 0; ; attempt++ {
				s.log.Info("schedule fired", "schedule", sc.def.Name, "function", fn.def.LogicalID, "time", at.UTC().Format(time.RFC3339), "attempt", attempt+1)
				res, err := fn.pool.invoke(ctx, payload)
				if err != nil {
					return
				}
				attrs := []any{"schedule", sc.def.Name, "function", fn.def.LogicalID, "requestId", res.RequestID, "outcome", res.Outcome.String()}
				if res.Outcome == Success {
					s.log.Info("scheduled invocation succeeded", attrs...)
					return
				}
				if attempt >= len(asyncRetryDelays) {
					s.log.Warn("scheduled invocation failed; no retries left", append(attrs, s.host.logAttr(fn.def.LogicalID)...)...)
					return
				}
				s.log.Warn("scheduled invocation failed; Lambda retries it", append(append(attrs, "retryIn", asyncRetryDelays[attempt].String()), s.host.logAttr(fn.def.LogicalID)...)...)
				select {
				case <-time.After(asyncRetryDelays[attempt]):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// scheduleAnswer is the body POST /_tailor/schedules/{name} answers.
type scheduleAnswer struct {
	Schedule string         `json:"schedule"`
	Time     time.Time      `json:"time"`
	Targets  []targetAnswer `json:"targets"`
}

type targetAnswer struct {
	Target    string          `json:"target"`
	Skipped   string          `json:"skipped,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
	Outcome   string          `json:"outcome,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// serveListSchedules answers GET /_tailor/schedules.
func (s *Server) serveListSchedules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Schedules())
}

// serveInvokeSchedule answers POST /_tailor/schedules/{name}: it fires the
// schedule now and answers each target's outcome and payload. A body
// {"time": "<RFC 3339>"} sets the scheduled event's time.
func (s *Server) serveInvokeSchedule(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	var in struct {
		Time time.Time `json:"time"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<10))
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "the body must be {\"time\": \"<RFC 3339>\"}: " + err.Error()})
			return
		}
	}
	if in.Time.IsZero() {
		in.Time = time.Now()
	}
	results, err := s.InvokeSchedule(r.Context(), r.PathValue("name"), in.Time)
	switch {
	case errors.Is(err, ErrUnknownSchedule):
		writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
		return
	case errors.Is(err, ErrUnsupportedTarget):
		writeJSON(w, http.StatusNotImplemented, map[string]string{"message": err.Error()})
		return
	case errors.Is(err, context.Canceled):
		return
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	out := scheduleAnswer{Schedule: r.PathValue("name"), Time: in.Time.UTC().Truncate(time.Second)}
	var fns []string
	for _, res := range results {
		a := targetAnswer{Target: res.Target, Skipped: res.Skipped}
		if res.Skipped == "" {
			a.RequestID, a.Outcome, a.Payload = res.Result.RequestID, res.Result.Outcome.String(), res.Result.Payload
			if !json.Valid(a.Payload) {
				a.Payload = nil
			}
			fns = append(fns, res.Target)
		}
		out.Targets = append(out.Targets, a)
	}
	sort.Strings(fns)
	info.function = strings.Join(fns, ",")
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
