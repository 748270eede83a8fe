// Package dynamo is the DynamoDB adapter of segmentation: it implements
// the ports of package service (Customers, Runs, RunReader, MemberLister)
// on the customers and models tables, in the types of package segments.
//
// Access patterns and keys:
//
//	customers' purchase days, all     Customers  Scan by parallel segments, pk begins_with C#,
//	                                             projecting pk, agg.days, the latest feedback
//	                                             answers agg.feedback.rating, agg.feedback.nps
//	                                             and the previous scores (the score job only)
//	a customer's scores               Customers  pk=C#<id> sk=PROFILE: scores (map), seg_pk, seg_sk
//	members of a segment of a run     Customers  index segment-index: seg_pk=<run_id>#<segment slug>,
//	                                             seg_sk=<customer_id>; projects the scores map only
//	segment runs, latest run          Models     pk=RUN#segment sk=<run_id> | sk=LATEST
//	segment reports of a run          Models     pk=SEGMENT#<run_id> sk=<segment slug>
//	intermediate results of a run     Models     pk=RUN#segment#<run_id> sk=BLOB#<name>#<chunk>
//
// The index key carries the run id, so a customer whose latest scores
// came from an earlier run (scored then, skipped now) is never listed as a
// member of the latest run.
package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
	"tailor/shared/segments"
)

// SegmentIndex is the customers table's index of segment members.
const SegmentIndex = "segment-index"

const (
	attrSegPK      = "seg_pk"
	attrSegSK      = "seg_sk"
	attrScores     = "scores"
	pkSegmentRuns  = "RUN#segment"
	skLatest       = "LATEST"
	pfxSegmentSums = "SEGMENT#"
	pfxBlob        = "BLOB#"
	// blobChunk keeps each chunk of an intermediate result well below
	// DynamoDB's 400 KB item limit.
	blobChunk = 300 << 10
)

// CustomerScores is the customers table as the score job and the
// segments API see it: purchase days in, scores out, members by segment.
type CustomerScores struct {
	DB    ddb.DB
	Table string
	// Writers bounds concurrent UpdateItem calls of one WriteScores; 8
	// when 0.
	Writers int
}

type daysItem struct {
	PK     string            `dynamodbav:"pk"`
	Scores *customers.Scores `dynamodbav:"scores"`
	Agg    struct {
		Days      map[string]customers.Amounts `dynamodbav:"days"`
		EventDays map[string]int64             `dynamodbav:"evdays"`
		Feedback  *customers.Feedback          `dynamodbav:"feedback"`
	} `dynamodbav:"agg"`
}

// ScanSegment reads one parallel-scan segment of customer records,
// projecting only the id, the purchase days, the latest feedback answers
// and the scores of the previous run. A Scan is charged for whole items
// whatever it projects, so the scores cost nothing more to read.
func (s *CustomerScores) ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error {
	sc, ok := s.DB.(ddb.Scanner)
	if !ok {
		return fmt.Errorf("scan customers: the database client cannot Scan")
	}
	op := fmt.Sprintf("scan customers segment %d/%d", seg, total)
	expr, err := expression.NewBuilder().
		WithFilter(expression.Name(ddb.AttrPK).BeginsWith(schema.PfxCustomer)).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrPK), expression.Name("agg.days"), expression.Name("agg.evdays"),
			expression.Name("agg.feedback.rating"), expression.Name("agg.feedback.nps"), expression.Name(attrScores))).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.ScanInput{TableName: &s.Table, Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(total)),
		FilterExpression: expr.Filter(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	p := dynamodb.NewScanPaginator(sc, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return ddb.Classify(op, err)
		}
		page := make([]segments.CustomerDays, 0, len(out.Items))
		for _, it := range out.Items {
			var d daysItem
			if err := attributevalue.UnmarshalMap(it, &d); err != nil {
				return fmt.Errorf("%s: decode: %w", op, err)
			}
			cd := segments.CustomerDays{CustomerID: strings.TrimPrefix(d.PK, schema.PfxCustomer), Days: d.Agg.Days, EventDays: d.Agg.EventDays,
				Previous: d.Scores}
			if f := d.Agg.Feedback; f != nil {
				cd.LastRating, cd.LastNPS = f.LastRating, f.LastNPS
			}
			page = append(page, cd)
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

// WriteScores sets each customer's scores and index keys with one
// UpdateItem, touching no other attribute. The write is conditional: the
// record must exist (an erased customer stays erased), must not hold
// scores of a later as-of date (a backfill never overwrites a newer run),
// and must not already hold exactly these scores (a re-run writes
// nothing). Records that fail the condition count as unchanged.
func (s *CustomerScores) WriteScores(ctx context.Context, scores []segments.CustomerScores) (written, unchanged int64, err error) {
	workers := s.Writers
	if workers == 0 {
		workers = 8
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan segments.CustomerScores)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cs := range next {
				changed, err := s.writeOne(ctx, cs)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
				case err == nil && changed:
					written++
				case err == nil:
					unchanged++
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, cs := range scores {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- cs:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return written, unchanged, firstErr
}

func (s *CustomerScores) writeOne(ctx context.Context, cs segments.CustomerScores) (bool, error) {
	op := "write scores of customer " + cs.CustomerID
	av, err := attributevalue.Marshal(cs.Scores)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	upd := expression.Set(expression.Name(attrScores), expression.Value(av)).
		Set(expression.Name(attrSegPK), expression.Value(segments.SegmentKey(cs.Scores.RunID, cs.Scores.Segment))).
		Set(expression.Name(attrSegSK), expression.Value(cs.CustomerID))
	cond := expression.Name(ddb.AttrPK).AttributeExists().And(expression.Or(
		expression.Name(attrScores).AttributeNotExists(),
		expression.Name(attrScores+".as_of").LessThanEqual(expression.Value(cs.Scores.AsOf)).
			And(expression.Name(attrScores).NotEqual(expression.Value(av)))))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Table, Key: schema.CustomerKey(cs.CustomerID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, ddb.Classify(op, err)
	}
	return true, nil
}

type memberItem struct {
	ID     string           `dynamodbav:"seg_sk"`
	Scores customers.Scores `dynamodbav:"scores"`
}

// Members lists a page of the customers in segment slug of run runID by
// Query on the segment index (never a Scan). The cursor is opaque to
// callers and only valid for the same run and segment.
func (s *CustomerScores) Members(ctx context.Context, runID, slug string, limit int, cursor string) (segments.MemberPage, error) {
	segKey := segments.SegmentKey(runID, slug)
	op := "list members of segment " + segKey
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrSegPK).Equal(expression.Value(segKey))).
		WithProjection(expression.NamesList(expression.Name(attrSegSK), expression.Name(attrScores))).Build()
	if err != nil {
		return segments.MemberPage{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, IndexName: aws.String(SegmentIndex),
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		c, err := decodeMemberCursor(cursor, segKey)
		if err != nil {
			return segments.MemberPage{}, err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrSegPK: &types.AttributeValueMemberS{Value: segKey}, attrSegSK: &types.AttributeValueMemberS{Value: c.ID},
			ddb.AttrPK: &types.AttributeValueMemberS{Value: schema.PfxCustomer + c.ID}, ddb.AttrSK: &types.AttributeValueMemberS{Value: schema.SkProfile}}
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return segments.MemberPage{}, ddb.Classify(op, err)
	}
	page := segments.MemberPage{Members: make([]segments.Member, 0, len(out.Items))}
	for _, it := range out.Items {
		var m memberItem
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return segments.MemberPage{}, fmt.Errorf("%s: decode: %w", op, err)
		}
		page.Members = append(page.Members, segments.Member{CustomerID: m.ID, Scores: m.Scores})
	}
	if lek, ok := out.LastEvaluatedKey[attrSegSK].(*types.AttributeValueMemberS); ok {
		page.Next = ddb.SealCursor(segments.MemberCursor{Key: segKey, ID: lek.Value})
	}
	return page, nil
}

func decodeMemberCursor(s, segKey string) (segments.MemberCursor, error) {
	var c segments.MemberCursor
	if !ddb.OpenCursor(s, &c) || !c.Valid(segKey) {
		return segments.MemberCursor{}, segments.ErrCursor
	}
	return c, nil
}

// SegmentRuns is the models table as the score job and the segments API
// see it: run reports, the latest-run pointer, segment reports and a
// fanned-out run's intermediate results.
type SegmentRuns struct {
	DB    ddb.DB
	Table string
}

type runItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	RunID  string `dynamodbav:"run_id"`
	AsOf   string `dynamodbav:"as_of"`
	Status string `dynamodbav:"status,omitempty"`
	Phase  string `dynamodbav:"phase,omitempty"`
	// Record is the run record's JSON, kept as one string so that every
	// number survives exactly as the job computed it.
	Record string `dynamodbav:"record,omitempty"`
}

// SaveRun stores the run's report, replacing an earlier one of the run.
func (s *SegmentRuns) SaveRun(ctx context.Context, rec segments.Report) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("save segment run %s: %w", rec.RunID, err)
	}
	return s.put(ctx, "save segment run "+rec.RunID, runItem{PK: pkSegmentRuns, SK: rec.RunID, RunID: rec.RunID, AsOf: rec.AsOf,
		Status: rec.Status, Phase: rec.Phase, Record: string(b)}, nil)
}

func (s *SegmentRuns) put(ctx context.Context, op string, v any, cond *expression.ConditionBuilder) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	in := &dynamodb.PutItemInput{TableName: &s.Table, Item: item}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return fmt.Errorf("%s: build expression: %w", op, err)
		}
		in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = expr.Condition(), expr.Names(), expr.Values()
	}
	_, err = s.DB.PutItem(ctx, in)
	return ddb.Classify(op, err)
}

// Run returns a run's report, or a NotFound error.
func (s *SegmentRuns) Run(ctx context.Context, runID string) (segments.Report, error) {
	op := "get segment run " + runID
	it, err := s.get(ctx, op, pkSegmentRuns, runID)
	if err != nil {
		return segments.Report{}, err
	}
	if it == nil || it.Record == "" {
		return segments.Report{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("segment run %s does not exist", runID)}
	}
	var rec segments.Report
	if err := json.Unmarshal([]byte(it.Record), &rec); err != nil {
		return segments.Report{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	return rec, nil
}

func (s *SegmentRuns) get(ctx context.Context, op, pk, sk string) (*runItem, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: ddb.Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	var it runItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", op, err)
	}
	return &it, nil
}

// Latest returns the latest complete run's report, or a NotFound error
// before the first run.
func (s *SegmentRuns) Latest(ctx context.Context) (segments.Report, error) {
	it, err := s.get(ctx, "get latest segment run", pkSegmentRuns, skLatest)
	if err != nil {
		return segments.Report{}, err
	}
	if it == nil {
		return segments.Report{}, &errs.Error{Op: "get latest segment run", Kind: errs.NotFound, Detail: "no segmentation run has completed yet"}
	}
	return s.Run(ctx, it.RunID)
}

// SetLatest points the latest run at runID unless a run of a later as-of
// date is already latest.
func (s *SegmentRuns) SetLatest(ctx context.Context, runID, asOf string) error {
	cond := expression.Name(ddb.AttrPK).AttributeNotExists().Or(expression.Name("as_of").LessThanEqual(expression.Value(asOf)))
	err := s.put(ctx, "set latest segment run "+runID, runItem{PK: pkSegmentRuns, SK: skLatest, RunID: runID, AsOf: asOf}, &cond)
	if errs.Is(err, errs.Other) && ddb.ConditionFailed(err) {
		return nil
	}
	return err
}

type segmentSumItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	RunID string `dynamodbav:"run_id"`
	segments.SegmentReport
}

// SaveSegments stores one item per segment report with BatchWriteItem,
// replacing the run's earlier item of the same segment.
func (s *SegmentRuns) SaveSegments(ctx context.Context, runID string, sums []segments.SegmentReport) error {
	op := "save segment summaries of run " + runID
	reqs := make([]types.WriteRequest, 0, len(sums))
	for _, sum := range sums {
		item, err := attributevalue.MarshalMapWithOptions(segmentSumItem{PK: pfxSegmentSums + runID, SK: sum.Segment, RunID: runID, SegmentReport: sum},
			func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		item[ddb.AttrPK] = &types.AttributeValueMemberS{Value: pfxSegmentSums + runID}
		item[ddb.AttrSK] = &types.AttributeValueMemberS{Value: sum.Segment}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, reqs, 1)
}

type blobItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Data   []byte `dynamodbav:"data"`
	Chunks int    `dynamodbav:"chunks"`
}

func blobPK(runID string) string { return pkSegmentRuns + "#" + runID }

// PutBlob stores an intermediate result of a run in chunks. Writing the
// same name again overwrites it, so a retried step is harmless.
func (s *SegmentRuns) PutBlob(ctx context.Context, runID, name string, data []byte) error {
	chunks := slices.Collect(slices.Chunk(data, blobChunk))
	if len(chunks) == 0 {
		chunks = [][]byte{{}}
	}
	for i, c := range chunks {
		it := blobItem{PK: blobPK(runID), SK: fmt.Sprintf("%s%s#%04d", pfxBlob, name, i), Data: c, Chunks: len(chunks)}
		if err := s.put(ctx, "put "+name+" of segment run "+runID, it, nil); err != nil {
			return err
		}
	}
	return nil
}

// query reads every item of the models table that matches kc, strongly
// consistent (another invocation may have written it a moment ago),
// projecting only the named attributes when there are any.
func (s *SegmentRuns) query(ctx context.Context, op string, kc expression.KeyConditionBuilder, attrs ...string) ([]map[string]types.AttributeValue, error) {
	b := expression.NewBuilder().WithKeyCondition(kc)
	if len(attrs) > 0 {
		names := make([]expression.NameBuilder, len(attrs))
		for i, a := range attrs {
			names[i] = expression.Name(a)
		}
		b = b.WithProjection(expression.NamesList(names[0], names[1:]...))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)}
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify(op, err)
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// DeleteBlobs removes the run's intermediate results whose names start
// with prefix. Deleting what is already gone is not an error.
func (s *SegmentRuns) DeleteBlobs(ctx context.Context, runID, prefix string) error {
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(blobPK(runID))).
		And(expression.Key(ddb.AttrSK).BeginsWith(pfxBlob + prefix))
	items, err := s.query(ctx, "delete "+prefix+"* of segment run "+runID, kc, ddb.AttrPK, ddb.AttrSK)
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: it}}
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, reqs, 1)
}

// GetBlob reads an intermediate result back (strongly consistent: another
// invocation may have written it a moment ago). A missing one is NotFound.
func (s *SegmentRuns) GetBlob(ctx context.Context, runID, name string) ([]byte, error) {
	op := "get " + name + " of segment run " + runID
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(blobPK(runID))).
		And(expression.Key(ddb.AttrSK).BeginsWith(pfxBlob + name + "#"))
	items, err := s.query(ctx, op, kc)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, &errs.Error{Op: op, Kind: errs.NotFound, Detail: name + " has not been written"}
	}
	parts := make([]blobItem, len(items))
	for i, it := range items {
		if err := attributevalue.UnmarshalMap(it, &parts[i]); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", op, err)
		}
	}
	n := parts[0].Chunks
	if len(parts) < n {
		return nil, fmt.Errorf("%s: %d of %d chunks", op, len(parts), n)
	}
	var out []byte
	for _, b := range parts[:n] { // chunks beyond n are left from a longer earlier write
		out = append(out, b.Data...)
	}
	return out, nil
}

// Segments returns the reports SaveSegments stored for a run, in report
// order (segments.Segments); none for a run without any.
func (s *SegmentRuns) Segments(ctx context.Context, runID string) ([]segments.SegmentReport, error) {
	op := "get segment reports of run " + runID
	items, err := s.query(ctx, op, expression.Key(ddb.AttrPK).Equal(expression.Value(pfxSegmentSums+runID)))
	if err != nil {
		return nil, err
	}
	var out []segments.SegmentReport
	for _, it := range items {
		var r segments.SegmentReport
		if err := attributevalue.UnmarshalMapWithOptions(it, &r, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", op, err)
		}
		out = append(out, r)
	}
	segments.SortReports(out)
	return out, nil
}

// SeedAggregates writes whole customer records that hold only aggregates
// with the given purchase days and feedback answers, 25 per BatchWriteItem
// call with workers
// calls at a time. It replaces existing records, so it is for benchmarks
// and tests that need many customers fast, never for live data.
func (s *CustomerScores) SeedAggregates(ctx context.Context, recs []segments.CustomerDays, workers int) error {
	reqs := make([]types.WriteRequest, 0, len(recs))
	for _, r := range recs {
		agg := customers.NewAggregates()
		agg.PurchaseDays = r.Days
		if r.EventDays != nil {
			agg.EventDays = r.EventDays
		}
		if r.LastRating != nil || r.LastNPS != nil {
			agg.Feedback = &customers.Feedback{ByTopic: map[events.Topic]int64{}, LastRating: r.LastRating, LastNPS: r.LastNPS}
		}
		item, err := attributevalue.MarshalMap(struct {
			PK         string                `dynamodbav:"pk"`
			SK         string                `dynamodbav:"sk"`
			CustomerID string                `dynamodbav:"customer_id"`
			Agg        *customers.Aggregates `dynamodbav:"agg"`
		}{schema.PfxCustomer + r.CustomerID, schema.SkProfile, r.CustomerID, agg})
		if err != nil {
			return fmt.Errorf("seed customer %s: %w", r.CustomerID, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	chunks := slices.Collect(slices.Chunk(reqs, ddb.BatchWriteLimit*40))
	errsOut := make([]error, len(chunks))
	sem := make(chan struct{}, max(workers, 1))
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errsOut[i] = ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, c, 1)
		}()
	}
	wg.Wait()
	for _, err := range errsOut {
		if err != nil {
			return err
		}
	}
	return nil
}
