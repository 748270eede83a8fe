package lambdahost

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tailor/shared/local/samtemplate"
)

// The EventBridge PutEvents API as the SDK's eventbridge client calls it
// when AWS_ENDPOINT_URL_EVENTS points at the server: the AWS JSON 1.1
// protocol, POST / with X-Amz-Target: AWSEvents.PutEvents. Every accepted
// entry is appended to Config.EventsFile as the event a rule's target
// would receive, so tests and people read what AWS would have delivered.
// Nothing is routed to targets: there are no rules locally.

// Limits PutEvents enforces, as EventBridge documents them.
const (
	maxPutEventsEntries = 10
	// maxPutEventsSize bounds the entries of one call, counted as
	// EventBridge counts them (see entrySize).
	maxPutEventsSize = 256 << 10
	// maxPutEventsBody bounds what is read of a request: entries within
	// maxPutEventsSize, JSON-escaped, fit well within it.
	maxPutEventsBody = 4 << 20
	// eventsTargetPrefix starts every EventBridge operation's X-Amz-Target.
	eventsTargetPrefix = "AWSEvents."
	// eventsService names the emulated service in the access log.
	eventsService = "EventBridge"
)

// Event is one entry PutEvents accepted, as Config.EventsFile holds it: the
// event as EventBridge delivers it to a rule's target (the envelope of
// aws-lambda-go's events.CloudWatchEvent), plus the bus it was put on.
type Event struct {
	// Version is EventBridge's envelope version, "0".
	Version string `json:"version"`
	// ID is the id the server assigned, as EventBridge assigns an EventId.
	ID string `json:"id"`
	// DetailType and Source are the entry's.
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	// Account and Region are the local stand-ins the server runs with.
	Account string `json:"account"`
	// Time is the entry's Time, or when the server received it, to the
	// second as EventBridge keeps it.
	Time   time.Time `json:"time"`
	Region string    `json:"region"`
	// Resources are the entry's, never null.
	Resources []string `json:"resources"`
	// Detail is the entry's detail, a JSON object.
	Detail json.RawMessage `json:"detail"`
	// EventBusName is the bus's name ("default" when the entry named
	// none; an ARN is reduced to the name).
	EventBusName string `json:"event-bus-name"`
}

// ReadEvents reads a file written through Config.EventsFile, oldest event
// first. A missing file holds no events.
func ReadEvents(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 2*maxPutEventsSize)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("read events: %s line %d: %w", path, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %s: %w", path, err)
	}
	return out, nil
}

// eventsAPI answers EventBridge's PutEvents.
type eventsAPI struct {
	log     *slog.Logger
	region  string
	account string
	// buses are the names of the template's buses and "default": an entry
	// for another bus is accepted, as EventBridge does, with a warning.
	buses map[string]bool

	mu     sync.Mutex // serialises writes, so lines never interleave
	out    *os.File   // nil: entries are answered and kept nowhere
	warned map[string]bool
}

// newEventsAPI opens path afresh (when set) for the accepted events.
func newEventsAPI(s *Server, path string) (*eventsAPI, error) {
	a := &eventsAPI{log: s.log, region: s.cfg.Region, account: samtemplate.DefaultAccountID,
		buses: map[string]bool{"default": true}, warned: map[string]bool{}}
	for id, res := range s.tpl.Resources {
		if res.Type == typeEventBus {
			name, err := s.resolver.Resolve(samtemplate.NewValue(map[string]any{"Ref": id}))
			if err != nil {
				return nil, fmt.Errorf("event bus %s: %w", id, err)
			}
			a.buses[name] = true
		}
	}
	if path == "" {
		return a, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	a.out = f
	return a, nil
}

// typeEventBus is the CloudFormation type of a custom event bus.
const typeEventBus = "AWS::Events::EventBus"

func (a *eventsAPI) close() error {
	if a == nil || a.out == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.out.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// isEventsRequest reports a request for the EventBridge API rather than
// for an API route: the SDK posts to the root with an X-Amz-Target header.
func isEventsRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("X-Amz-Target"), eventsTargetPrefix)
}

// putEventsRequest is the PutEvents input; pointers tell absent from
// empty.
type putEventsRequest struct {
	Entries    *[]putEventsEntry `json:"Entries"`
	EndpointID *string           `json:"EndpointId"`
}

type putEventsEntry struct {
	Source       *string      `json:"Source"`
	DetailType   *string      `json:"DetailType"`
	Detail       *string      `json:"Detail"`
	EventBusName *string      `json:"EventBusName"`
	Time         *json.Number `json:"Time"`
	Resources    []string     `json:"Resources"`
	TraceHeader  *string      `json:"TraceHeader"`
}

// putEventsResult is one entry's answer: an EventId, or an error code and
// message.
type putEventsResult struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// awsJSONError answers in the AWS JSON protocol's error shape, which the
// SDK reads into an error with the type as its code.
func awsJSONError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-Requestid", newID())
	writeAWSError(w, status, awsJSONContentType, typ, map[string]string{"__type": typ, "message": msg})
}

// awsJSONContentType is the media type of AWS JSON 1.1 requests and
// answers.
const awsJSONContentType = "application/x-amz-json-1.1"

func (a *eventsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	target := r.Header.Get("X-Amz-Target")
	info.routeKey, info.function = target, eventsService
	if target != eventsTargetPrefix+"PutEvents" {
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException",
			"tailor serve answers only PutEvents of the EventBridge API, not "+strings.TrimPrefix(target, eventsTargetPrefix))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPutEventsBody+1))
	if err != nil {
		awsJSONError(w, http.StatusBadRequest, "SerializationException", "could not read the request body")
		return
	}
	if len(body) > maxPutEventsBody {
		awsJSONError(w, http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		awsJSONError(w, http.StatusBadRequest, "SerializationException", "the request body is not a PutEvents request: "+err.Error())
		return
	}
	if msg := checkEntries(req.Entries); msg != "" {
		awsJSONError(w, http.StatusBadRequest, "ValidationException", msg)
		return
	}
	if req.EndpointID != nil {
		awsJSONError(w, http.StatusBadRequest, "ValidationException", "global endpoints (EndpointId) are not emulated locally")
		return
	}
	entries := *req.Entries
	now := time.Now()
	results := make([]putEventsResult, len(entries))
	var lines bytes.Buffer
	var accepted []Event
	failed := 0
	for i, e := range entries {
		ev, code, msg := a.event(e, now)
		if code != "" {
			results[i] = putEventsResult{ErrorCode: code, ErrorMessage: msg}
			failed++
			continue
		}
		line, err := json.Marshal(ev)
		if err != nil {
			results[i] = putEventsResult{ErrorCode: "InternalFailure", ErrorMessage: "the event could not be recorded"}
			failed++
			continue
		}
		lines.Write(line)
		lines.WriteByte('\n')
		accepted = append(accepted, ev)
		results[i] = putEventsResult{EventID: ev.ID}
	}
	if err := a.record(lines.Bytes()); err != nil {
		a.log.Error("events file write failed", "err", err)
		awsJSONError(w, http.StatusInternalServerError, "InternalException", "the events could not be recorded")
		return
	}
	for _, ev := range accepted {
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "event put",
			slog.String("eventId", ev.ID), slog.String("source", ev.Source),
			slog.String("detailType", ev.DetailType), slog.String("eventBus", ev.EventBusName))
		a.warnUnknownBus(ev.EventBusName)
	}
	w.Header().Set("Content-Type", awsJSONContentType)
	w.Header().Set("X-Amzn-Requestid", newID())
	out, _ := json.Marshal(struct {
		FailedEntryCount int               `json:"FailedEntryCount"`
		Entries          []putEventsResult `json:"Entries"`
	}{failed, results})
	_, _ = w.Write(out)
}

// checkEntries applies the call-wide checks, which fail the whole call:
// entry count and total size. It returns EventBridge's message, or "".
func checkEntries(entries *[]putEventsEntry) string {
	if entries == nil {
		return "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null"
	}
	switch n := len(*entries); {
	case n == 0:
		return "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"
	case n > maxPutEventsEntries:
		return fmt.Sprintf("1 validation error detected: Value at 'entries' (%d entries) failed to satisfy constraint: Member must have length less than or equal to %d", n, maxPutEventsEntries)
	}
	total := 0
	for _, e := range *entries {
		total += entrySize(e)
	}
	if total > maxPutEventsSize {
		return "Total size of the entries in the request is over the limit."
	}
	return ""
}

// entrySize counts an entry as EventBridge documents it: 14 bytes for a
// time, and the UTF-8 bytes of source, detail type, detail and resources.
func entrySize(e putEventsEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
		if s != nil {
			n += len(*s)
		}
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// event checks one entry the way EventBridge does, failing only that
// entry, and builds the event it becomes.
func (a *eventsAPI) event(e putEventsEntry, now time.Time) (Event, string, string) {
	for _, f := range []struct {
		name string
		v    *string
	}{{"Source", e.Source}, {"DetailType", e.DetailType}, {"Detail", e.Detail}} {
		if f.v == nil || *f.v == "" {
			return Event{}, "InvalidArgument", fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", f.name, f.name)
		}
	}
	detail := []byte(*e.Detail)
	trimmed := bytes.TrimSpace(detail)
	if !utf8.Valid(detail) || !json.Valid(detail) || len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, "MalformedDetail", "Detail is malformed."
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, detail)
	at := now
	if e.Time != nil {
		secs, err := e.Time.Float64()
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return Event{}, "InvalidArgument", "Parameter Time is not valid."
		}
		whole, frac := math.Modf(secs)
		at = time.Unix(int64(whole), int64(frac*1e9))
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	return Event{
		Version:      "0",
		ID:           newID(),
		DetailType:   *e.DetailType,
		Source:       *e.Source,
		Account:      a.account,
		Region:       a.region,
		Time:         at.UTC().Truncate(time.Second),
		Resources:    resources,
		Detail:       compact.Bytes(),
		EventBusName: busName(e.EventBusName),
	}, "", ""
}

// busName reduces an entry's EventBusName (a name, an ARN or nothing) to
// the bus's name.
func busName(v *string) string {
	if v == nil || *v == "" {
		return "default"
	}
	if _, name, ok := strings.Cut(*v, ":event-bus/"); ok && strings.HasPrefix(*v, "arn:") {
		return name
	}
	return *v
}

// record appends the lines in one write.
func (a *eventsAPI) record(lines []byte) error {
	if a.out == nil || len(lines) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.out.Write(lines)
	return err
}

// warnUnknownBus warns once per bus the template does not declare: the
// function's EVENT_BUS_NAME-style variable is likely wrong, and in AWS its
// events would go nowhere a rule listens.
func (a *eventsAPI) warnUnknownBus(name string) {
	a.mu.Lock()
	seen := a.buses[name] || a.warned[name]
	a.warned[name] = true
	a.mu.Unlock()
	if !seen {
		a.log.Warn("event put on a bus the template does not declare", "eventBus", name)
	}
}
