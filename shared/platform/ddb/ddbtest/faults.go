package ddbtest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"tailor/shared/platform/ddb"
)

// ErrCrashed is what every call of a crashed invocation returns: the
// process "died" between two writes, and nothing after the crash point
// reaches the database.
var ErrCrashed = errors.New("ddbtest: invocation crashed")

// Fault kinds Faults injects.
const (
	FaultThrottle = iota // rejected before reaching the table, as a throttle
	FaultServer          // rejected with a 500 before reaching the table
	FaultLost            // the write was applied, then the call timed out
	FaultCrash           // the write was applied, then the process died
	faultKinds
)

// Faults wraps a ddb.DB and injects failures with the given rates per
// call (0..1, checked in this order; their sum is the fault rate).
// DynamoDB Local never throttles or fails on its own, so this is how tests
// reach the retry paths. It is safe for concurrent use.
type Faults struct {
	DB ddb.DB
	// Throttle and Server apply to every call; Lost and Crash to writes
	// only, and both let the write through before failing.
	Throttle, Server, Lost, Crash float64

	mu     sync.Mutex
	rng    *rand.Rand
	calls  atomic.Int64
	counts [faultKinds]atomic.Int64
	off    atomic.Bool
}

// NewFaults wraps db with a seeded random source, so a failing run can be
// repeated.
func NewFaults(db ddb.DB, seed uint64) *Faults {
	return &Faults{DB: db, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Pause turns injection off (true) or back on (false).
func (f *Faults) Pause(off bool) { f.off.Store(off) }

// Calls returns how many calls went through the layer.
func (f *Faults) Calls() int64 { return f.calls.Load() }

// Count returns how many faults of a kind were injected.
func (f *Faults) Count(kind int) int64 { return f.counts[kind].Load() }

// invocation marks a context as one function invocation that can crash.
type invocation struct{ crashed atomic.Bool }

type invocationKey struct{}

// Invocation returns a context for one simulated function invocation: after
// a crash fault, every call made with it fails with ErrCrashed.
func Invocation(ctx context.Context) context.Context {
	return context.WithValue(ctx, invocationKey{}, &invocation{})
}

// Crashed reports whether the invocation of ctx crashed.
func Crashed(ctx context.Context) bool {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	return inv != nil && inv.crashed.Load()
}

// draw picks the fault of one call, or -1.
func (f *Faults) draw(write bool) int {
	f.calls.Add(1)
	if f.off.Load() {
		return -1
	}
	f.mu.Lock()
	x := f.rng.Float64()
	f.mu.Unlock()
	for kind, rate := range []float64{f.Throttle, f.Server, f.Lost, f.Crash} {
		if (kind == FaultLost || kind == FaultCrash) && !write {
			continue
		}
		if x < rate {
			f.counts[kind].Add(1)
			return kind
		}
		x -= rate
	}
	return -1
}

// before fails a call before it reaches the table.
func (f *Faults) before(ctx context.Context, kind int) error {
	if Crashed(ctx) {
		return ErrCrashed
	}
	switch kind {
	case FaultThrottle:
		return &types.ProvisionedThroughputExceededException{Message: aws.String("ddbtest: injected throttle")}
	case FaultServer:
		return &types.InternalServerError{Message: aws.String("ddbtest: injected server error")}
	}
	return nil
}

// after fails a call whose write was applied.
func (f *Faults) after(ctx context.Context, kind int) error {
	switch kind {
	case FaultLost:
		return &aws.RequestCanceledError{Err: context.DeadlineExceeded}
	case FaultCrash:
		if inv, _ := ctx.Value(invocationKey{}).(*invocation); inv != nil {
			inv.crashed.Store(true)
		}
		return ErrCrashed
	}
	return nil
}

func call[In, Out any](f *Faults, ctx context.Context, write bool, in In, opts []func(*dynamodb.Options),
	do func(context.Context, In, ...func(*dynamodb.Options)) (Out, error)) (Out, error) {
	var zero Out
	kind := f.draw(write)
	if err := f.before(ctx, kind); err != nil {
		return zero, err
	}
	out, err := do(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	if err := f.after(ctx, kind); err != nil {
		return zero, err
	}
	return out, nil
}

// GetItem implements ddb.DB.
func (f *Faults) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(f, ctx, false, in, o, f.DB.GetItem)
}

// PutItem implements ddb.DB.
func (f *Faults) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(f, ctx, true, in, o, f.DB.PutItem)
}

// UpdateItem implements ddb.DB.
func (f *Faults) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(f, ctx, true, in, o, f.DB.UpdateItem)
}

// DeleteItem implements ddb.DB.
func (f *Faults) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call(f, ctx, true, in, o, f.DB.DeleteItem)
}

// Query implements ddb.DB.
func (f *Faults) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(f, ctx, false, in, o, f.DB.Query)
}

// BatchGetItem implements ddb.DB.
func (f *Faults) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return call(f, ctx, false, in, o, f.DB.BatchGetItem)
}

// BatchWriteItem implements ddb.DB.
func (f *Faults) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return call(f, ctx, true, in, o, f.DB.BatchWriteItem)
}

// TransactWriteItems implements ddb.DB.
func (f *Faults) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(f, ctx, true, in, o, f.DB.TransactWriteItems)
}

// Meter wraps a ddb.DB and sums the capacity DynamoDB reports for every
// call (it asks for ReturnConsumedCapacity TOTAL). Safe for concurrent use.
type Meter struct {
	DB ddb.DB

	mu    sync.Mutex
	read  float64
	write float64
	model float64
	reads float64
	calls int64
}

// Modelled returns the write capacity the successful writes would be
// billed by DynamoDB's published rules (see modelWrite).
func (m *Meter) Modelled() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.model
}

// ModelledReads returns the read capacity the successful reads would be
// billed by DynamoDB's published rules (see modelRead): unlike DynamoDB
// Local's report it bills keys that found nothing.
func (m *Meter) ModelledReads() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

func (m *Meter) addReadModel(in, out any) {
	r := modelRead(in, out)
	m.mu.Lock()
	m.reads += r
	m.mu.Unlock()
}

func (m *Meter) addModel(in any) {
	w := modelWrite(in)
	m.mu.Lock()
	m.model += w
	m.mu.Unlock()
}

// Capacity returns the read and write capacity units consumed so far.
func (m *Meter) Capacity() (rcu, wcu float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read, m.write
}

// Calls returns the number of successful calls metered so far.
func (m *Meter) Calls() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Reset sets the sums to zero.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.read, m.write, m.model, m.reads, m.calls = 0, 0, 0, 0, 0
	m.mu.Unlock()
}

func (m *Meter) add(cs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	for _, c := range cs {
		m.read += aws.ToFloat64(c.ReadCapacityUnits)
		m.write += aws.ToFloat64(c.WriteCapacityUnits)
	}
}

// one normalises a reported capacity: with TOTAL, DynamoDB may give only
// CapacityUnits, which is write capacity for a write call.
func one(c *types.ConsumedCapacity, write bool) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	cc := *c
	if cc.ReadCapacityUnits == nil && cc.WriteCapacityUnits == nil {
		if write {
			cc.WriteCapacityUnits = cc.CapacityUnits
		} else {
			cc.ReadCapacityUnits = cc.CapacityUnits
		}
	}
	return []types.ConsumedCapacity{cc}
}

func total(cs []types.ConsumedCapacity, write bool) []types.ConsumedCapacity {
	var out []types.ConsumedCapacity
	for i := range cs {
		out = append(out, one(&cs[i], write)...)
	}
	return out
}

// GetItem implements ddb.DB.
func (m *Meter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.GetItem(ctx, in, o...)
	if err == nil {
		m.add(one(out.ConsumedCapacity, false)...)
		m.addReadModel(in, out)
	}
	return out, err
}

// PutItem implements ddb.DB.
func (m *Meter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.PutItem(ctx, in, o...)
	if err == nil {
		m.add(one(out.ConsumedCapacity, true)...)
		m.addModel(in)
	}
	return out, err
}

// UpdateItem implements ddb.DB.
func (m *Meter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.UpdateItem(ctx, in, o...)
	if err == nil {
		m.add(one(out.ConsumedCapacity, true)...)
		m.addModel(in)
	}
	return out, err
}

// DeleteItem implements ddb.DB.
func (m *Meter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.DeleteItem(ctx, in, o...)
	if err == nil {
		m.add(one(out.ConsumedCapacity, true)...)
		m.addModel(in)
	}
	return out, err
}

// Query implements ddb.DB.
func (m *Meter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.Query(ctx, in, o...)
	if err == nil {
		m.add(one(out.ConsumedCapacity, false)...)
		m.addReadModel(in, out)
	}
	return out, err
}

// BatchGetItem implements ddb.DB.
func (m *Meter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.BatchGetItem(ctx, in, o...)
	if err == nil {
		m.add(total(out.ConsumedCapacity, false)...)
		m.addReadModel(in, out)
	}
	return out, err
}

// BatchWriteItem implements ddb.DB.
func (m *Meter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.BatchWriteItem(ctx, in, o...)
	if err == nil {
		m.add(total(out.ConsumedCapacity, true)...)
		m.addModel(in)
	}
	return out, err
}

// TransactWriteItems implements ddb.DB.
func (m *Meter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.TransactWriteItems(ctx, in, o...)
	if err == nil {
		m.add(total(out.ConsumedCapacity, true)...)
		m.addModel(in)
	}
	return out, err
}
