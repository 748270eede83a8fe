package samtemplate

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
)

// Function is one AWS::Serverless::Function with Globals.Function merged in.
type Function struct {
	// LogicalID is the template's name for the function, e.g.
	// "CustomersFunction"; see FunctionName for the package it maps to.
	LogicalID string
	// CodeURI, Handler, Runtime, Architectures and Description are as
	// declared after the globals merge.
	CodeURI       string
	Handler       string
	Runtime       string
	Architectures []string
	Description   string
	// Timeout is in seconds; SAM's default of 3 applies when neither the
	// function nor Globals sets it.
	Timeout int
	// MemorySize is in MB; SAM's default of 128 applies when unset.
	MemorySize int
	// Environment holds the variables unresolved; see Resolver.Environment.
	Environment map[string]Value
	// Policies is the Policies property as written, for permission checks.
	Policies Value
	// Events in event name order.
	Events []Event
	// BuildMethod is Metadata.BuildMethod ("makefile" for our functions).
	BuildMethod string
	// LogFormat is LoggingConfig.LogFormat ("JSON" or "Text").
	LogFormat string
	// ApplicationLogLevel is LoggingConfig.ApplicationLogLevel, unresolved.
	ApplicationLogLevel Value
	// ReservedConcurrency is ReservedConcurrentExecutions, 0 when unset.
	ReservedConcurrency int
}

// Defaults SAM applies when neither the function nor Globals sets a value.
const (
	DefaultTimeout    = 3
	DefaultMemorySize = 128
)

// Event is one entry of a function's Events. Exactly one of the typed
// fields is set for the types this package knows; Properties always holds
// the raw properties.
type Event struct {
	// Name is the event's key under Events; Type its SAM type ("HttpApi",
	// "Schedule", "ScheduleV2", "SQS", ...).
	Name       string
	Type       string
	Properties Value
	HTTPAPI    *HTTPAPIEvent
	Schedule   *ScheduleEvent
	SQS        *SQSEvent
}

// HTTPAPIEvent is an HttpApi event: one route of an HTTP API.
type HTTPAPIEvent struct {
	// APIID is the logical id of the HTTP API, ImplicitHTTPAPI when the event
	// names none.
	APIID string
	// Method is upper case, "ANY" for any method.
	Method string
	// Path is the route path, or "$default" for the catch-all route.
	Path string
	// Auth is the per-route override, nil when the route inherits the API's
	// default authorizer.
	Auth *RouteAuth
	// PayloadFormatVersion is "2.0" unless the event says otherwise.
	PayloadFormatVersion string
	// TimeoutInMillis is the integration timeout, 0 when unset.
	TimeoutInMillis int
}

// RouteAuth is an HttpApi event's Auth block.
type RouteAuth struct {
	// Authorizer names an authorizer of the API, or NoAuthorizer.
	Authorizer          string
	AuthorizationScopes []string
}

// NoAuthorizer is the Authorizer value that turns authorization off for one
// route.
const NoAuthorizer = "NONE"

// ScheduleEvent is a Schedule (EventBridge rule) or ScheduleV2 (EventBridge
// Scheduler) event.
type ScheduleEvent struct {
	// Expression is the rate(...) or cron(...) expression, unresolved.
	Expression Value
	// Timezone is ScheduleExpressionTimezone (ScheduleV2 only).
	Timezone string
	// Input is the constant JSON passed to the function, "" when unset.
	Input string
	// Enabled is false when the schedule is declared but switched off.
	// A State written as an intrinsic (!If ...) leaves it true; State
	// keeps it for Resolver.Schedules to evaluate.
	Enabled bool
	State   Value
	// Name is the rule or schedule name, "" when SAM generates it.
	Name string
	// Description is the schedule's description.
	Description string
}

// SQSEvent is an SQS event source mapping.
type SQSEvent struct {
	// Queue is usually !GetAtt Queue.Arn.
	Queue Value
	// BatchSize defaults to 10 as in SAM.
	BatchSize int
	// MaximumBatchingWindowInSeconds is how long Lambda gathers a batch.
	MaximumBatchingWindowInSeconds int
	// FunctionResponseTypes lists "ReportBatchItemFailures" when the function
	// reports partial batch failures.
	FunctionResponseTypes []string
	// Enabled is false for a mapping declared but switched off.
	Enabled bool
	// MaximumConcurrency is ScalingConfig.MaximumConcurrency, 0 when unset.
	MaximumConcurrency int
}

type rawFunction struct {
	CodeURI       Value    `json:"CodeUri"`
	Handler       string   `json:"Handler"`
	Runtime       string   `json:"Runtime"`
	Architectures []string `json:"Architectures"`
	Description   string   `json:"Description"`
	Timeout       Value    `json:"Timeout"`
	MemorySize    Value    `json:"MemorySize"`
	Environment   struct {
		Variables map[string]Value `json:"Variables"`
	} `json:"Environment"`
	Policies      Value               `json:"Policies"`
	Events        map[string]rawEvent `json:"Events"`
	LoggingConfig struct {
		LogFormat           string `json:"LogFormat"`
		ApplicationLogLevel Value  `json:"ApplicationLogLevel"`
	} `json:"LoggingConfig"`
	ReservedConcurrentExecutions Value `json:"ReservedConcurrentExecutions"`
}

type rawEvent struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
}

func readFunction(id string, globals rawFunction, r rawResource, defaults map[string]string) (Function, error) {
	var p rawFunction
	if len(r.Properties) > 0 {
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			return Function{}, fmt.Errorf("read properties: %w", err)
		}
	}
	f := Function{
		LogicalID:   id,
		Handler:     first(p.Handler, globals.Handler),
		Runtime:     first(p.Runtime, globals.Runtime),
		Description: first(p.Description, globals.Description),
		Policies:    p.Policies,
		LogFormat:   first(p.LoggingConfig.LogFormat, globals.LoggingConfig.LogFormat),
		// SAM's globals rule: lists add up, maps merge, scalars override.
		Architectures:       append(append([]string(nil), globals.Architectures...), p.Architectures...),
		ApplicationLogLevel: p.LoggingConfig.ApplicationLogLevel,
		Environment:         map[string]Value{},
	}
	if f.ApplicationLogLevel.IsZero() {
		f.ApplicationLogLevel = globals.LoggingConfig.ApplicationLogLevel
	}
	codeURI := p.CodeURI
	if codeURI.IsZero() {
		codeURI = globals.CodeURI
	}
	var err error
	if f.CodeURI, err = stringValue(codeURI, "CodeUri"); err != nil {
		// CodeUri may be an S3 location map; keep the text form for messages.
		f.CodeURI = codeURI.String()
	}
	for k, v := range globals.Environment.Variables {
		f.Environment[k] = v
	}
	for k, v := range p.Environment.Variables {
		f.Environment[k] = v
	}
	timeout := p.Timeout
	if timeout.IsZero() {
		timeout = globals.Timeout
	}
	if f.Timeout, err = intValue(timeout, defaults, "Timeout"); err != nil {
		return Function{}, err
	}
	if f.Timeout == 0 {
		f.Timeout = DefaultTimeout
	}
	mem := p.MemorySize
	if mem.IsZero() {
		mem = globals.MemorySize
	}
	if f.MemorySize, err = intValue(mem, defaults, "MemorySize"); err != nil {
		return Function{}, err
	}
	if f.MemorySize == 0 {
		f.MemorySize = DefaultMemorySize
	}
	if f.ReservedConcurrency, err = intValue(p.ReservedConcurrentExecutions, defaults, "ReservedConcurrentExecutions"); err != nil {
		return Function{}, err
	}
	if m, ok := r.Metadata.Map(); ok {
		f.BuildMethod, _ = m["BuildMethod"].Literal()
	}
	for _, name := range sortedKeys(p.Events) {
		e, err := readEvent(name, p.Events[name], defaults)
		if err != nil {
			return Function{}, fmt.Errorf("event %s: %w", name, err)
		}
		f.Events = append(f.Events, e)
	}
	return f, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func readEvent(name string, r rawEvent, defaults map[string]string) (Event, error) {
	e := Event{Name: name, Type: r.Type}
	if len(r.Properties) > 0 {
		if err := json.Unmarshal(r.Properties, &e.Properties); err != nil {
			return Event{}, fmt.Errorf("read properties: %w", err)
		}
	}
	props := r.Properties
	if len(props) == 0 {
		props = []byte("{}")
	}
	switch r.Type {
	case "HttpApi":
		var p struct {
			APIID                Value      `json:"ApiId"`
			Method               string     `json:"Method"`
			Path                 string     `json:"Path"`
			Auth                 *RouteAuth `json:"Auth"`
			PayloadFormatVersion string     `json:"PayloadFormatVersion"`
			TimeoutInMillis      Value      `json:"TimeoutInMillis"`
		}
		if err := json.Unmarshal(props, &p); err != nil {
			return Event{}, fmt.Errorf("read HttpApi properties: %w", err)
		}
		h := &HTTPAPIEvent{
			APIID:                ImplicitHTTPAPI,
			Method:               strings.ToUpper(p.Method),
			Path:                 p.Path,
			Auth:                 p.Auth,
			PayloadFormatVersion: first(p.PayloadFormatVersion, "2.0"),
		}
		if !p.APIID.IsZero() {
			ref, ok := p.APIID.Ref()
			if !ok {
				return Event{}, fmt.Errorf("ApiId %s: want !Ref to an HttpApi", p.APIID)
			}
			h.APIID = ref
		}
		// With neither Method nor Path SAM wires the API's $default route.
		if h.Path == "" && h.Method == "" {
			h.Path = "$default"
		}
		if h.Method == "" {
			h.Method = "ANY"
		}
		var err error
		if h.TimeoutInMillis, err = intValue(p.TimeoutInMillis, defaults, "TimeoutInMillis"); err != nil {
			return Event{}, err
		}
		e.HTTPAPI = h
	case "Schedule", "ScheduleV2":
		sch, err := readScheduleEvent(r.Type, props)
		if err != nil {
			return Event{}, err
		}
		e.Schedule = sch
	case "SQS":
		var p struct {
			Queue                          Value    `json:"Queue"`
			BatchSize                      Value    `json:"BatchSize"`
			MaximumBatchingWindowInSeconds Value    `json:"MaximumBatchingWindowInSeconds"`
			FunctionResponseTypes          []string `json:"FunctionResponseTypes"`
			Enabled                        *bool    `json:"Enabled"`
			ScalingConfig                  struct {
				MaximumConcurrency Value `json:"MaximumConcurrency"`
			} `json:"ScalingConfig"`
		}
		if err := json.Unmarshal(props, &p); err != nil {
			return Event{}, fmt.Errorf("read SQS properties: %w", err)
		}
		s := &SQSEvent{Queue: p.Queue, FunctionResponseTypes: p.FunctionResponseTypes, Enabled: p.Enabled == nil || *p.Enabled}
		var err error
		if s.BatchSize, err = intValue(p.BatchSize, defaults, "BatchSize"); err != nil {
			return Event{}, err
		}
		if s.BatchSize == 0 {
			s.BatchSize = 10
		}
		if s.MaximumBatchingWindowInSeconds, err = intValue(p.MaximumBatchingWindowInSeconds, defaults, "MaximumBatchingWindowInSeconds"); err != nil {
			return Event{}, err
		}
		if s.MaximumConcurrency, err = intValue(p.ScalingConfig.MaximumConcurrency, defaults, "MaximumConcurrency"); err != nil {
			return Event{}, err
		}
		e.SQS = s
	}
	return e, nil
}

// functionSuffix ends every function's logical id by our naming convention.
const functionSuffix = "Function"

// FunctionName maps a function's logical id to its short name: the Go
// package under functions/ and the binary directory under the local bin
// directory. "CustomersFunction" gives "customers".
func FunctionName(logicalID string) (string, error) {
	base, ok := strings.CutSuffix(logicalID, functionSuffix)
	if !ok || base == "" {
		return "", fmt.Errorf("function %q: logical id must be <Name>Function", logicalID)
	}
	for _, r := range base {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return "", fmt.Errorf("function %q: logical id must be ASCII letters and digits", logicalID)
		}
	}
	return strings.ToLower(base), nil
}

// PackageDir returns the function's Go package directory relative to the
// repository root, e.g. "functions/customers".
func PackageDir(logicalID string) (string, error) {
	name, err := FunctionName(logicalID)
	if err != nil {
		return "", err
	}
	return "functions/" + name, nil
}

// BinaryPath returns where the locally built bootstrap of a function lives:
// <binDir>/<name>/bootstrap.
func BinaryPath(binDir, logicalID string) (string, error) {
	name, err := FunctionName(logicalID)
	if err != nil {
		return "", err
	}
	return filepath.Join(binDir, name, "bootstrap"), nil
}
