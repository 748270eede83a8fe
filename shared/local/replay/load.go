package replay

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/events"
	"tailor/shared/local/apiclient"
	"tailor/shared/local/dataset"
)

// Sender posts a JSON body to an API path and returns the status and body
// of the answer. HTTP reaches a running API; tests plug the handlers in
// directly.
type Sender interface {
	Post(ctx context.Context, path string, body []byte) (int, []byte, error)
}

// HTTP sends to a base URL such as http://127.0.0.1:3000 through the API's
// generated client (package apiclient).
type HTTP struct {
	Base   string
	Key    string       // API key, sent as Authorization: Bearer; "" for none
	Client *http.Client // nil for one with a two-minute timeout

	once   sync.Once
	api    *apiclient.Client
	apiErr error
}

// maxAnswer bounds how much of an answer Post reads.
const maxAnswer = 16 << 20

// Post implements Sender for the POST operations a load uses: events, the
// item batch, and creating, launching and reporting campaigns. Any other
// path is an error before anything is sent.
func (h *HTTP) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	h.once.Do(func() {
		c := h.Client
		if c == nil {
			c = &http.Client{Timeout: 2 * time.Minute}
		}
		h.api, h.apiErr = apiclient.NewClient(strings.TrimRight(h.Base, "/"), apiclient.WithHTTPClient(c), apiclient.WithKey(h.Key))
	})
	if h.apiErr != nil {
		return 0, nil, h.apiErr
	}
	const ct = "application/json"
	var (
		resp *http.Response
		err  error
	)
	campaign, action, _ := strings.Cut(strings.TrimPrefix(path, "/v1/campaigns/"), "/")
	switch {
	case path == "/v1/events":
		resp, err = h.api.IngestEventsWithBody(ctx, ct, bytes.NewReader(body))
	case path == "/v1/items:batch":
		resp, err = h.api.BatchPutItemsWithBody(ctx, ct, bytes.NewReader(body))
	case path == "/v1/campaigns":
		resp, err = h.api.CreateCampaignWithBody(ctx, ct, bytes.NewReader(body))
	case strings.HasPrefix(path, "/v1/campaigns/") && action == "launch":
		resp, err = h.api.LaunchCampaignWithBody(ctx, campaign, ct, bytes.NewReader(body))
	case strings.HasPrefix(path, "/v1/campaigns/") && action == "report" && len(body) == 0:
		resp, err = h.api.ComputeCampaignReport(ctx, campaign)
	default:
		return 0, nil, fmt.Errorf("replay: no API operation for POST %s with this body", path)
	}
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode, b, err
}

// Loader replays a data set through the API.
type Loader struct {
	Send Sender
	// Batch is the number of events per request (at most events.MaxBatch).
	Batch int
	// Senders is the number of concurrent requests.
	Senders int
	// Attempts bounds the sends of one event (failed outcomes and requests
	// without an answer are sent again with backoff).
	Attempts int
	// Progress receives a progress bar; nil for none.
	Progress io.Writer
	// Keep selects rows; nil keeps every row.
	Keep func(dataset.RetailRecord) bool
	// ByCustomer sends each customer's events together (customers in
	// order of their first row, each customer's events in file order)
	// instead of in file order: a backfill, whose arrival order does not
	// matter, then costs one write of a customer's record per batch
	// rather than one per invoice.
	ByCustomer bool
	// Checkpoint, when set, makes the load resumable (see Checkpoint).
	Checkpoint *Checkpoint
}

// Report sums up a load.
type Report struct {
	Rows        int
	Skipped     map[string]int // rows without an event, by cleaning rule
	Items       int
	ItemsFailed int
	Events      int
	Accepted    int
	Duplicate   int
	Rejected    map[string]int // by reason
	Failed      int            // still failing after every attempt
	Requests    int
	Retries     int // events sent more than once
	// Answered counts the events that got their final answer (accepted,
	// duplicate or rejected) in this load.
	Answered int
	// Resumed counts the events a previous, interrupted load of the same
	// source answered, which this one did not send again.
	Resumed int
	// ItemsChanged counts the catalog items created or updated; items sent
	// with the content they already had change nothing.
	ItemsChanged int
	Took         time.Duration
	EventsPerSec float64
	// Last is the latest event time in the data: the as-of time that makes
	// the nightly jobs see all of it.
	Last time.Time
}

// String renders the report for people.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d: %d events, skipped %s\n", r.Rows, r.Events, counts(r.Skipped))
	fmt.Fprintf(&b, "items %d: changed %d, unchanged %d, failed %d\n", r.Items, r.ItemsChanged, r.Items-r.ItemsChanged-r.ItemsFailed, r.ItemsFailed)
	if r.Resumed > 0 {
		fmt.Fprintf(&b, "resumed: the first %d events were answered by an earlier, interrupted load and not sent again\n", r.Resumed)
	}
	if r.Answered+r.Failed < r.Events-r.Resumed {
		fmt.Fprintf(&b, "stopped part way: %d of %d events answered; the next load goes on from the checkpoint\n",
			r.Resumed+r.Answered, r.Events)
	}
	fmt.Fprintf(&b, "events %d in %s (%.0f events/s, %d requests, %d resent): accepted %d, duplicate %d, rejected %d %s, failed %d\n",
		r.Answered, r.Took.Round(time.Millisecond), r.EventsPerSec, r.Requests, r.Retries, r.Accepted, r.Duplicate,
		sum(r.Rejected), counts(r.Rejected), r.Failed)
	if r.Unchanged() {
		fmt.Fprintf(&b, "nothing changed: every item and every event sent was stored before\n")
	}
	return b.String()
}

// Unchanged reports whether the load changed nothing: no item created or
// updated, no event accepted, none failed or rejected.
func (r Report) Unchanged() bool {
	return r.ItemsChanged == 0 && r.ItemsFailed == 0 && r.Accepted == 0 && r.Failed == 0 && sum(r.Rejected) == 0 &&
		r.Events > r.Resumed
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Retail loads the Online Retail file that open returns (read twice: items
// first, so that events find their categories, then events).
func (l *Loader) Retail(ctx context.Context, open func() (io.ReadCloser, error)) (Report, error) {
	rep := Report{Skipped: map[string]int{}, Rejected: map[string]int{}}
	var items Items
	var evs []json.RawMessage
	// group[i] is the customer of evs[i], numbered by first appearance.
	var group []int
	customers := map[string]int{}
	err := read(open, func(rec dataset.RetailRecord) error {
		if l.Keep != nil && !l.Keep(rec) {
			return nil
		}
		rep.Rows++
		in, ok := RetailEvent(rec)
		if !ok {
			rep.Skipped[string(rec.Reason)]++
			return nil
		}
		items.Add(rec)
		if rec.Time.After(rep.Last) {
			rep.Last = rec.Time
		}
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		evs = append(evs, raw)
		if l.ByCustomer {
			c, ok := customers[in.CustomerID]
			if !ok {
				c = len(customers)
				customers[in.CustomerID] = c
			}
			group = append(group, c)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if l.ByCustomer {
		evs, group = groupBy(evs, group)
	}
	list := items.List()
	rep.Items = len(list)
	if rep.ItemsChanged, rep.ItemsFailed, err = l.items(ctx, list); err != nil {
		return rep, err
	}
	err = l.events(ctx, evs, group, &rep)
	return rep, err
}

// groupBy returns evs and their groups ordered by group (stable: within a
// group, in the order given).
func groupBy(evs []json.RawMessage, group []int) ([]json.RawMessage, []int) {
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(group[a], group[b]) })
	out, groups := make([]json.RawMessage, len(evs)), make([]int, len(evs))
	for i, j := range idx {
		out[i], groups[i] = evs[j], group[j]
	}
	return out, groups
}

// batches cuts evs into chunks of at most size events and groups the
// chunks into runs that must be sent one after the other. Without groups
// every chunk of size events is a run of its own. With groups (evs
// ordered by group), chunks hold whole groups, as many as fit; a group
// larger than size fills chunks of its own, which form one run, so that
// no two of them race for the group's record.
func batches(evs []json.RawMessage, group []int, size int) (chunks [][]json.RawMessage, runs [][]int) {
	if group == nil {
		for c := range slices.Chunk(evs, size) {
			runs = append(runs, []int{len(chunks)})
			chunks = append(chunks, c)
		}
		return chunks, runs
	}
	start := 0 // of the chunk being filled
	for i := 0; i < len(evs); {
		end := i
		for end < len(evs) && group[end] == group[i] {
			end++
		}
		switch {
		case end-start <= size: // the group joins the chunk
		case end-i <= size: // the chunk is full: the group starts the next one
			runs = append(runs, []int{len(chunks)})
			chunks = append(chunks, evs[start:i])
			start = i
		default: // a group larger than a chunk: its own run of chunks
			if i > start {
				runs = append(runs, []int{len(chunks)})
				chunks = append(chunks, evs[start:i])
			}
			var run []int
			for c := range slices.Chunk(evs[i:end], size) {
				run = append(run, len(chunks))
				chunks = append(chunks, c)
			}
			runs = append(runs, run)
			start = end
		}
		i = end
	}
	if start < len(evs) {
		runs = append(runs, []int{len(chunks)})
		chunks = append(chunks, evs[start:])
	}
	return chunks, runs
}

func read(open func() (io.ReadCloser, error), yield func(dataset.RetailRecord) error) error {
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	return dataset.ReadOnlineRetail(f, yield)
}

// items upserts the catalog in batches and returns how many items were
// created or updated and how many failed.
func (l *Loader) items(ctx context.Context, list []catalog.BatchInput) (changed, failed int, err error) {
	for chunk := range slices.Chunk(list, catalog.MaxBatch) {
		body, err := json.Marshal(map[string]any{"items": chunk})
		if err != nil {
			return 0, 0, err
		}
		var out struct{ Created, Updated, Rejected, Failed int }
		for attempt := 1; ; attempt++ {
			status, resp, err := l.Send.Post(ctx, "/v1/items:batch", body)
			if err == nil && status == http.StatusOK {
				if err := json.Unmarshal(resp, &out); err != nil {
					return 0, 0, fmt.Errorf("items: %w", err)
				}
				break
			}
			if ctx.Err() != nil {
				return 0, 0, ctx.Err()
			}
			if attempt >= l.attempts() || (err == nil && status < 500 && status != http.StatusTooManyRequests) {
				return 0, 0, fmt.Errorf("items: %s", describe(status, resp, err))
			}
			backoff(ctx, attempt)
		}
		changed += out.Created + out.Updated
		failed += out.Rejected + out.Failed
	}
	return changed, failed, nil
}

func describe(status int, body []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Sprintf("HTTP %d: %s", status, body)
}

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(50<<min(attempt, 6)) * time.Millisecond
	t := time.NewTimer(d/2 + rand.N(d/2))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (l *Loader) attempts() int {
	if l.Attempts > 0 {
		return l.Attempts
	}
	return 10
}

// outcome is the part of an ingest answer the loader reads.
type outcome struct {
	Index  int           `json:"index"`
	Status events.Status `json:"status"`
	Reason string        `json:"reason"`
}

// Events sends raw events in order, in batches, with l.Senders concurrent
// requests, and adds what happened to rep. Failed events (and batches
// without an answer) are sent again, alone, until they are stored or
// l.Attempts is used up.
func (l *Loader) Events(ctx context.Context, evs []json.RawMessage, rep *Report) error {
	return l.events(ctx, evs, nil, rep)
}

// events is Events where group, when not nil, gives each event's group
// (its customer): batches that share a group are sent one after the
// other, never at once, so that they do not race for one record.
func (l *Loader) events(ctx context.Context, evs []json.RawMessage, group []int, rep *Report) error {
	start := time.Now()
	size := l.Batch
	if size <= 0 || size > events.MaxBatch {
		size = events.MaxBatch
	}
	total := len(evs)
	skip, err := l.Checkpoint.done(total)
	if err != nil {
		return err
	}
	rep.Resumed += skip
	evs = evs[skip:]
	if group != nil {
		group = group[skip:]
	}
	chunks, runs := batches(evs, group, size)
	// starts[i] is how many events come before chunk i.
	starts := make([]int, len(chunks)+1)
	for i, c := range chunks {
		starts[i+1] = starts[i] + len(c)
	}
	// answered[i] holds how many events of chunk i have their final
	// answer; the checkpoint is the prefix of whole chunks answered.
	answered := make([]int, len(chunks))
	prefix := 0
	var saveErr error
	type job struct {
		chunk   int
		evs     []json.RawMessage
		attempt int
	}
	jobs := make(chan []int)
	var (
		mu    sync.Mutex
		done  int
		wg    sync.WaitGroup
		first error
	)
	bar := newBar(l.Progress, len(evs))
	var send func(j job)
	send = func(j job) {
		body, err := json.Marshal(map[string]any{"events": j.evs})
		if err != nil {
			panic(err) // raw JSON always marshals
		}
		status, resp, err := l.Send.Post(ctx, "/v1/events", body)
		var out struct {
			Results []outcome `json:"results"`
		}
		if err == nil && status == http.StatusOK {
			err = json.Unmarshal(resp, &out)
		}
		mu.Lock()
		rep.Requests++
		var retry []json.RawMessage
		switch {
		case err == nil && status == http.StatusOK:
			for _, o := range out.Results {
				switch o.Status {
				case events.Accepted:
					rep.Accepted++
				case events.Duplicate:
					rep.Duplicate++
				case events.Rejected:
					rep.Rejected[o.Reason]++
				default:
					retry = append(retry, j.evs[o.Index])
				}
			}
		case err == nil && status < 500 && status != http.StatusTooManyRequests:
			// The batch itself was refused; resending cannot help.
			rep.Rejected[fmt.Sprintf("http_%d", status)] += len(j.evs)
			if first == nil {
				first = fmt.Errorf("events: %s", describe(status, resp, nil))
			}
		default:
			retry = j.evs
		}
		gaveUp := 0
		if j.attempt >= l.attempts() || ctx.Err() != nil {
			gaveUp = len(retry)
			rep.Failed += gaveUp
			retry = nil
		}
		rep.Retries += len(retry)
		done += len(j.evs) - len(retry)
		// An event given up on is not answered: a resumed load sends its
		// chunk again.
		answered[j.chunk] += len(j.evs) - len(retry) - gaveUp
		for prefix < len(chunks) && answered[prefix] == len(chunks[prefix]) {
			prefix++
		}
		if err := l.Checkpoint.save(skip+starts[prefix], total, false); err != nil && saveErr == nil {
			saveErr = err
		}
		bar.set(done)
		mu.Unlock()
		if len(retry) > 0 {
			backoff(ctx, j.attempt)
			send(job{chunk: j.chunk, evs: retry, attempt: j.attempt + 1})
		}
	}
	senders := max(l.Senders, 1)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range jobs {
				for _, i := range run {
					if ctx.Err() == nil {
						send(job{chunk: i, evs: chunks[i], attempt: 1})
					}
				}
			}
		}()
	}
	for _, run := range runs {
		if ctx.Err() != nil {
			break
		}
		jobs <- run
	}
	close(jobs)
	wg.Wait()
	bar.finish()
	rep.Events += total
	rep.Answered += done - rep.Failed
	rep.Took = time.Since(start)
	if s := rep.Took.Seconds(); s > 0 {
		rep.EventsPerSec = float64(done) / s
	}
	if ctx.Err() != nil {
		// Whatever was answered stays recorded: the next load goes on
		// from there.
		if err := l.Checkpoint.save(skip+starts[prefix], total, true); err != nil {
			return errors.Join(ctx.Err(), err)
		}
		return ctx.Err()
	}
	if first == nil && saveErr == nil && rep.Failed == 0 {
		return l.Checkpoint.clear()
	}
	if first == nil && rep.Failed > 0 {
		return l.Checkpoint.save(skip+starts[prefix], total, true)
	}
	return errors.Join(first, saveErr)
}

// bar draws a progress bar on one terminal line.
type bar struct {
	w     io.Writer
	total int
	shown int
	start time.Time
	last  time.Time
}

func newBar(w io.Writer, total int) *bar { return &bar{w: w, total: total, start: time.Now()} }

func (b *bar) set(done int) {
	if b.w == nil || (time.Since(b.last) < 200*time.Millisecond && done < b.total) {
		return
	}
	b.last, b.shown = time.Now(), done
	const width = 30
	frac := 1.0
	if b.total > 0 {
		frac = float64(done) / float64(b.total)
	}
	n := int(frac * width)
	rate := float64(done) / max(time.Since(b.start).Seconds(), 1e-9)
	fmt.Fprintf(b.w, "\revents [%s%s] %3.0f%% %d/%d %6.0f/s", strings.Repeat("=", n), strings.Repeat(" ", width-n),
		100*frac, done, b.total, rate)
}

func (b *bar) finish() {
	if b.w != nil {
		if b.shown != b.total {
			b.last = time.Time{}
			b.set(b.total)
		}
		fmt.Fprintln(b.w)
	}
}
