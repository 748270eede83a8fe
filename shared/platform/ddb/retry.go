package ddb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Retry bounds and paces the retries of one call. The zero value is 8
// attempts on a 20 ms base.
type Retry struct {
	// Attempts bounds the tries; 8 when 0.
	Attempts int
	// Base is the smallest delay; 20 ms when 0.
	Base time.Duration
}

func (r Retry) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return 8
}

// Wait sleeps before retry attempt n (1-based): full jitter on an
// exponential base, at most 2 s, or until ctx ends.
func (r Retry) Wait(ctx context.Context, n int) error {
	base := r.Base
	if base <= 0 {
		base = 20 * time.Millisecond
	}
	d := min(base<<min(n, 7), 2*time.Second)
	t := time.NewTimer(rand.N(d) + base/2)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Exhausted reports whether attempt n was the last one allowed.
func (r Retry) Exhausted(n int) bool { return n >= r.attempts() }

// Get is one BatchGet: a table, its keys, and how to read them.
type Get struct {
	Table string
	Keys  []map[string]types.AttributeValue
	// Consistent asks for strongly consistent reads.
	Consistent bool
	// Projection, when set, limits the attributes read.
	Projection *expression.Expression
}

// BatchGet reads g's keys in calls of BatchGetLimit, dropping repeated
// keys (BatchGetItem rejects them) and retrying unprocessed keys with
// backoff. The order of the result is not the order of the keys.
func (r Retry) BatchGet(ctx context.Context, db DB, g Get) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for chunk := range slices.Chunk(dedupKeys(g.Keys), BatchGetLimit) {
		ka := types.KeysAndAttributes{Keys: chunk}
		if g.Consistent {
			ka.ConsistentRead = aws.Bool(true)
		}
		if g.Projection != nil {
			ka.ProjectionExpression, ka.ExpressionAttributeNames = g.Projection.Projection(), g.Projection.Names()
		}
		req := map[string]types.KeysAndAttributes{g.Table: ka}
		for attempt := 1; len(req) > 0; attempt++ {
			res, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			err = Classify("batch get "+g.Table, err)
			if err == nil {
				out = append(out, res.Responses[g.Table]...)
				if req = res.UnprocessedKeys; len(req) == 0 {
					break
				}
			} else if !Retriable(ctx, err) {
				return nil, err
			}
			if r.Exhausted(attempt) {
				return nil, fmt.Errorf("batch get %s: gave up after %d attempts: %w", g.Table, attempt, ErrRetry)
			}
			if err := r.Wait(ctx, attempt); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// dedupKeys drops repeated keys, keeping the first of each.
func dedupKeys(keys []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	seen := make(map[string]bool, len(keys))
	out := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		id := keyString(k)
		if !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}

func keyString(k map[string]types.AttributeValue) string {
	s := func(name string) string {
		if v, ok := k[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return s(AttrPK) + "\x00" + s(AttrSK)
}

// BatchWrite runs reqs against table in BatchWriteItem calls of
// BatchWriteLimit, with up to workers calls at a time (1 when < 1),
// retrying unprocessed items with backoff. Every request is a whole-item
// put or a delete, so repeating one is harmless. The first error cancels
// the calls not yet made.
func (r Retry) BatchWrite(ctx context.Context, db DB, table string, reqs []types.WriteRequest, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := slices.Collect(slices.Chunk(reqs, BatchWriteLimit))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan []types.WriteRequest)
	)
	for range min(max(workers, 1), len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				if err := r.writeChunk(ctx, db, table, chunk); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range chunks {
		if ctx.Err() != nil {
			break
		}
		next <- c
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (r Retry) writeChunk(ctx context.Context, db DB, table string, chunk []types.WriteRequest) error {
	req := map[string][]types.WriteRequest{table: chunk}
	for attempt := 1; ; attempt++ {
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		err = Classify("batch write "+table, err)
		if err == nil {
			if len(out.UnprocessedItems) == 0 {
				return nil
			}
			req = out.UnprocessedItems
		} else if !Retriable(ctx, err) {
			return err
		}
		if r.Exhausted(attempt) {
			return fmt.Errorf("batch write %s: gave up after %d attempts: %w", table, attempt, ErrRetry)
		}
		if err := r.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// ParallelScan scans in with the given number of segments at once and
// hands each page's items to page along with its segment number; page is
// called concurrently for different segments, never for the same one.
func ParallelScan(ctx context.Context, db Scanner, in *dynamodb.ScanInput, segments int,
	page func(seg int, items []map[string]types.AttributeValue) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, segments)
	for seg := range segments {
		go func() {
			si := *in
			si.Segment, si.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			p := dynamodb.NewScanPaginator(db, &si)
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					errc <- Classify("scan "+aws.ToString(in.TableName), err)
					cancel()
					return
				}
				if err := page(seg, out.Items); err != nil {
					errc <- err
					cancel()
					return
				}
			}
			errc <- nil
		}()
	}
	var first error
	for range segments {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
