package dynamo

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// batchWriteAll runs reqs against table in BatchWriteItem calls of 25,
// with up to workers calls at a time, retrying unprocessed items with
// backoff. Every request is a whole-item put or a delete, so repeating one
// is harmless.
func batchWriteAll(ctx context.Context, db DB, table string, reqs []types.WriteRequest, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := slices.Collect(slices.Chunk(reqs, batchWriteLimit))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan []types.WriteRequest)
	)
	for range min(workers, len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				if err := writeChunk(ctx, db, table, chunk); err != nil {
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

func writeChunk(ctx context.Context, db DB, table string, chunk []types.WriteRequest) error {
	req := map[string][]types.WriteRequest{table: chunk}
	for attempt := 1; ; attempt++ {
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		err = classify("batch write "+table, err)
		if err == nil {
			if len(out.UnprocessedItems) == 0 {
				return nil
			}
			req = out.UnprocessedItems
		} else if !retriable(ctx, err) {
			return err
		}
		if attempt >= retryAttempts {
			return fmt.Errorf("batch write %s: gave up after %d attempts: %w", table, attempt, errRetry)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}
