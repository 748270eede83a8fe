package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Resource types that declare schedules besides functions.
const (
	TypeRule         = "AWS::Events::Rule"
	TypeStateMachine = "AWS::Serverless::StateMachine"
)

// readScheduleEvent reads the properties of a Schedule (EventBridge rule)
// or ScheduleV2 (EventBridge Scheduler) event.
func readScheduleEvent(typ string, props []byte) (*ScheduleEvent, error) {
	var p struct {
		Schedule                   Value  `json:"Schedule"`
		ScheduleExpression         Value  `json:"ScheduleExpression"`
		ScheduleExpressionTimezone string `json:"ScheduleExpressionTimezone"`
		Input                      string `json:"Input"`
		Enabled                    *bool  `json:"Enabled"`
		State                      Value  `json:"State"`
		Name                       string `json:"Name"`
		Description                string `json:"Description"`
	}
	if err := json.Unmarshal(props, &p); err != nil {
		return nil, fmt.Errorf("read %s properties: %w", typ, err)
	}
	s := &ScheduleEvent{
		Expression:  p.Schedule,
		Timezone:    p.ScheduleExpressionTimezone,
		Input:       p.Input,
		Name:        p.Name,
		Description: p.Description,
		State:       p.State,
		Enabled:     true,
	}
	if typ == "ScheduleV2" {
		s.Expression = p.ScheduleExpression
	}
	if p.Enabled != nil {
		s.Enabled = *p.Enabled
	}
	if state, ok := p.State.Literal(); ok && strings.EqualFold(state, "DISABLED") {
		s.Enabled = false
	}
	return s, nil
}

// Schedule is one schedule the template declares, with everything
// resolved: a Schedule or ScheduleV2 event of a function or state machine
// (which SAM turns into a rule or a scheduler schedule), or an
// AWS::Events::Rule resource with a ScheduleExpression.
type Schedule struct {
	// Name is the logical id of the rule or schedule: SAM's
	// <Resource><Event> (TrainFunctionNightly) for an event, the
	// resource's own id (ScoreNightlyRule) for a rule.
	Name string
	// Source is the logical id of the resource that declares it, and
	// Event the event's name under its Events ("" for a rule resource).
	Source string
	Event  string
	// Type is "Schedule", "ScheduleV2" or TypeRule.
	Type string
	// Expression is the rate(...), cron(...) or at(...) expression;
	// Timezone is the ScheduleV2 time zone ("" for UTC).
	Expression string
	Timezone   string
	// Enabled is false for a schedule declared switched off, State and
	// conditions evaluated with the resolver's parameters.
	Enabled     bool
	Description string
	// ARN is the rule's or schedule's ARN, as the scheduled event names it
	// in resources.
	ARN string
	// Targets are what the schedule invokes.
	Targets []ScheduleTarget
}

// ScheduleTarget is one target of a schedule.
type ScheduleTarget struct {
	// ID is the target's Id (for a SAM event, the event's resource).
	ID string
	// LogicalID and Type name the template resource the target's ARN
	// points at; LogicalID is "" when the ARN names none.
	LogicalID string
	Type      string
	ARN       string
	// Input is the constant JSON the target receives, "" for the scheduled
	// event EventBridge builds.
	Input string
	// Unsupported names a target setting the local runner cannot honour
	// (InputPath, InputTransformer), "" when there is none.
	Unsupported string
}

// Schedules lists the template's schedules by name, leaving out those of
// resources whose Condition is false.
func (r *Resolver) Schedules() ([]Schedule, error) {
	var out []Schedule
	var problems []string
	add := func(s Schedule, err error) {
		if err != nil {
			problems = append(problems, err.Error())
			return
		}
		out = append(out, s)
	}
	for _, id := range sortedKeys(r.Template.Resources) {
		res := r.Template.Resources[id]
		on, err := r.Included(res)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !on {
			continue
		}
		switch res.Type {
		case TypeFunction:
			fn, _ := r.Template.Function(id)
			for _, e := range fn.Events {
				if e.Schedule != nil {
					add(r.eventSchedule(res, e.Name, e.Type, e.Schedule))
				}
			}
		case TypeStateMachine:
			events, err := stateMachineSchedules(res)
			if err != nil {
				problems = append(problems, fmt.Sprintf("state machine %s: %v", id, err))
				continue
			}
			for _, e := range events {
				add(r.eventSchedule(res, e.Name, e.Type, e.Schedule))
			}
		case TypeRule:
			if m, ok := res.Properties.Map(); ok && !m["ScheduleExpression"].IsZero() {
				add(r.ruleSchedule(res))
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("schedules: %s", strings.Join(problems, "; "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Included reports whether a resource exists with the resolver's
// parameters: it has no Condition, or its Condition holds.
func (r *Resolver) Included(res Resource) (bool, error) {
	if res.Condition == "" {
		return true, nil
	}
	on, err := r.condition(res.Condition)
	if err != nil {
		return false, fmt.Errorf("%s: condition %s: %w", res.LogicalID, res.Condition, err)
	}
	return on, nil
}

// stateMachineSchedules reads the Schedule events of a state machine,
// which this package has no struct for.
func stateMachineSchedules(res Resource) ([]Event, error) {
	props, ok := res.Properties.Map()
	if !ok {
		return nil, nil
	}
	events, ok := props["Events"].Map()
	if !ok {
		return nil, nil
	}
	var out []Event
	for _, name := range sortedKeys(events) {
		ev, _ := events[name].Map()
		typ, _ := ev["Type"].Literal()
		if typ != "Schedule" && typ != "ScheduleV2" {
			continue
		}
		raw, err := json.Marshal(ev["Properties"].Raw())
		if err != nil || string(raw) == "null" {
			raw = []byte("{}")
		}
		sch, err := readScheduleEvent(typ, raw)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		out = append(out, Event{Name: name, Type: typ, Schedule: sch})
	}
	return out, nil
}

// eventSchedule resolves a SAM schedule event of a function or state
// machine; its one target is that resource.
func (r *Resolver) eventSchedule(res Resource, event, typ string, e *ScheduleEvent) (Schedule, error) {
	name := res.LogicalID + event
	fail := func(err error) (Schedule, error) { return Schedule{}, fmt.Errorf("%s: %w", name, err) }
	expr, err := r.Resolve(e.Expression)
	if err != nil {
		return fail(err)
	}
	enabled := e.Enabled
	if !e.State.IsZero() {
		state, err := r.Resolve(e.State)
		if err != nil {
			return fail(fmt.Errorf("State: %w", err))
		}
		enabled = !strings.EqualFold(state, "DISABLED")
	}
	physical := e.Name
	if physical == "" {
		physical = r.TableName(name)
	}
	arn := fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", r.region(), r.account(), physical)
	if typ == "ScheduleV2" {
		arn = fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", r.region(), r.account(), physical)
	}
	target, err := r.targetARN(res.LogicalID)
	if err != nil {
		return fail(err)
	}
	return Schedule{
		Name: name, Source: res.LogicalID, Event: event, Type: typ,
		Expression: expr, Timezone: e.Timezone, Enabled: enabled, Description: e.Description, ARN: arn,
		Targets: []ScheduleTarget{{ID: res.LogicalID, LogicalID: res.LogicalID, Type: res.Type, ARN: target, Input: e.Input}},
	}, nil
}

// targetARN is the ARN a schedule event's resource is invoked by.
func (r *Resolver) targetARN(logicalID string) (string, error) {
	res := r.Template.Resources[logicalID]
	if res.Type == TypeStateMachine {
		return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", r.region(), r.account(), r.TableName(logicalID)), nil
	}
	arn, err := r.getAtt(logicalID, "Arn")
	if err != nil {
		return "", err
	}
	s, _ := arn.(string)
	return s, nil
}

// ruleSchedule resolves an AWS::Events::Rule with a ScheduleExpression.
func (r *Resolver) ruleSchedule(res Resource) (Schedule, error) {
	fail := func(err error) (Schedule, error) { return Schedule{}, fmt.Errorf("%s: %w", res.LogicalID, err) }
	props, _ := res.Properties.Map()
	str := func(field string) (string, error) {
		if props[field].IsZero() {
			return "", nil
		}
		s, err := r.Resolve(props[field])
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		return s, nil
	}
	expr, err := str("ScheduleExpression")
	if err != nil {
		return fail(err)
	}
	state, err := str("State")
	if err != nil {
		return fail(err)
	}
	desc, err := str("Description")
	if err != nil {
		return fail(err)
	}
	physical, err := str("Name")
	if err != nil {
		return fail(err)
	}
	if physical == "" {
		physical = r.TableName(res.LogicalID)
	}
	s := Schedule{
		Name: res.LogicalID, Source: res.LogicalID, Type: TypeRule, Expression: expr,
		Enabled: !strings.EqualFold(state, "DISABLED"), Description: desc,
		ARN: fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", r.region(), r.account(), physical),
	}
	targets, _ := props["Targets"].List()
	for i, tv := range targets {
		t, ok := tv.Map()
		if !ok {
			return fail(fmt.Errorf("target %d is not a mapping", i))
		}
		var tgt ScheduleTarget
		if tgt.ID, err = r.Resolve(t["Id"]); err != nil {
			return fail(fmt.Errorf("target %d Id: %w", i, err))
		}
		if tgt.ARN, err = r.Resolve(t["Arn"]); err != nil {
			return fail(fmt.Errorf("target %s Arn: %w", tgt.ID, err))
		}
		if ref, attr, ok := t["Arn"].GetAtt(); ok && attr == "Arn" {
			tgt.LogicalID = ref
		} else if ref, ok := t["Arn"].Ref(); ok {
			tgt.LogicalID = ref
		}
		if target, ok := r.Template.Resources[tgt.LogicalID]; ok {
			tgt.Type = target.Type
		} else {
			tgt.LogicalID = ""
		}
		if !t["Input"].IsZero() {
			if tgt.Input, err = r.Resolve(t["Input"]); err != nil {
				return fail(fmt.Errorf("target %s Input: %w", tgt.ID, err))
			}
		}
		for _, f := range []string{"InputPath", "InputTransformer"} {
			if !t[f].IsZero() {
				tgt.Unsupported = f
			}
		}
		s.Targets = append(s.Targets, tgt)
	}
	return s, nil
}
