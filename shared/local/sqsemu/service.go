// Package sqsemu is a local stand-in for Amazon SQS standard queues. It
// holds the queues a template declares and serves them over the AWS JSON
// 1.0 protocol that the SDK's sqs client speaks (X-Amz-Target:
// AmazonSQS.<Operation>), so code that sends to or receives from a queue
// runs unchanged against it; and it offers the same operations as Go
// methods for the local event source mapping, which lives in the same
// process.
//
// It covers what a standard queue promises to a client: visibility
// timeouts, long polling, per-message delays, retention, redrive to a
// dead-letter queue after maxReceiveCount receives, and the API's checks
// and error shapes. Messages live in memory: a restart empties every
// queue, as it empties the rest of the local stack. FIFO queues, queue
// management (CreateQueue, DeleteQueue, SetQueueAttributes), tags,
// permissions and message move tasks are not emulated.
//
// It is a development and test tool: functions must not import it, and it
// never talks to AWS.
package sqsemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Limits and defaults SQS documents for standard queues.
const (
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultRetentionPeriod   = 4 * 24 * time.Hour
	DefaultMaxMessageSize    = 1 << 20
	maxVisibilityTimeout     = 12 * time.Hour
	minRetentionPeriod       = time.Minute
	maxRetentionPeriod       = 14 * 24 * time.Hour
	maxDelay                 = 15 * time.Minute
	maxWaitTime              = 20 * time.Second
	minMaxMessageSize        = 1024
	maxReceiveCountLimit     = 1000
	maxBatchEntries          = 10
	maxReceiveMessages       = 10
)

// QueueConfig is one queue's attributes, as a template's AWS::SQS::Queue
// sets them. Zero values take SQS's defaults.
type QueueConfig struct {
	// Name is the queue's name, the last segment of its URL and ARN.
	Name string
	// VisibilityTimeout is how long a received message stays hidden from
	// other receivers; 30s when zero.
	VisibilityTimeout time.Duration
	// RetentionPeriod is how long a message is kept after it was sent;
	// four days when zero.
	RetentionPeriod time.Duration
	// Delay hides every new message for this long after it is sent.
	Delay time.Duration
	// ReceiveWaitTime is the long-poll wait of a ReceiveMessage call that
	// sets no WaitTimeSeconds.
	ReceiveWaitTime time.Duration
	// MaxMessageSize bounds a message's body and attributes in bytes;
	// 1 MiB when zero.
	MaxMessageSize int
	// DeadLetterTargetARN and MaxReceiveCount are the redrive policy: a
	// message received MaxReceiveCount times without being deleted moves
	// to that queue when next due. Both empty for no redrive.
	DeadLetterTargetARN string
	MaxReceiveCount     int
}

// Options are what a Service needs besides its queues.
type Options struct {
	// Region and Account make the queues' ARNs, and Account is the first
	// segment of their URLs' paths.
	Region  string
	Account string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service is a set of queues. Its methods are safe for concurrent use.
type Service struct {
	region  string
	account string
	now     func() time.Time
	queues  map[string]*queue
	names   []string // sorted
}

// New checks the queues' attributes the way SQS checks them at creation
// and returns a Service holding them, empty.
func New(opts Options, configs ...QueueConfig) (*Service, error) {
	s := &Service{region: opts.Region, account: opts.Account, now: opts.Now, queues: map[string]*queue{}}
	if s.now == nil {
		s.now = time.Now
	}
	var problems []string
	for _, c := range configs {
		c, err := withDefaults(c)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if _, dup := s.queues[c.Name]; dup {
			problems = append(problems, fmt.Sprintf("queue %s: declared twice", c.Name))
			continue
		}
		s.queues[c.Name] = &queue{cfg: c, arn: s.ARN(c.Name), byID: map[string]*message{}, changed: make(chan struct{})}
		s.names = append(s.names, c.Name)
	}
	sort.Strings(s.names)
	for _, name := range s.names {
		q := s.queues[name]
		if q.cfg.DeadLetterTargetARN == "" {
			continue
		}
		dlq, ok := s.queueByARN(q.cfg.DeadLetterTargetARN)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("queue %s: dead-letter target %s is not a queue of this service", name, q.cfg.DeadLetterTargetARN))
		case dlq == q:
			problems = append(problems, fmt.Sprintf("queue %s: a queue cannot be its own dead-letter queue", name))
		default:
			q.dlq = dlq
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("local SQS: %s", strings.Join(problems, "; "))
	}
	return s, nil
}

func withDefaults(c QueueConfig) (QueueConfig, error) {
	bad := func(format string, args ...any) (QueueConfig, error) {
		return QueueConfig{}, fmt.Errorf("queue %s: "+format, append([]any{c.Name}, args...)...)
	}
	if !validQueueName(c.Name) {
		return bad("name must be 1 to 80 letters, digits, hyphens and underscores")
	}
	if strings.HasSuffix(c.Name, ".fifo") {
		return bad("FIFO queues are not emulated locally")
	}
	if c.VisibilityTimeout == 0 {
		c.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if c.RetentionPeriod == 0 {
		c.RetentionPeriod = DefaultRetentionPeriod
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	switch {
	case c.VisibilityTimeout < 0 || c.VisibilityTimeout > maxVisibilityTimeout:
		return bad("VisibilityTimeout %s is outside 0 to 12 hours", c.VisibilityTimeout)
	case c.RetentionPeriod < minRetentionPeriod || c.RetentionPeriod > maxRetentionPeriod:
		return bad("MessageRetentionPeriod %s is outside 60 seconds to 14 days", c.RetentionPeriod)
	case c.Delay < 0 || c.Delay > maxDelay:
		return bad("DelaySeconds %s is outside 0 to 15 minutes", c.Delay)
	case c.ReceiveWaitTime < 0 || c.ReceiveWaitTime > maxWaitTime:
		return bad("ReceiveMessageWaitTimeSeconds %s is outside 0 to 20 seconds", c.ReceiveWaitTime)
	case c.MaxMessageSize < minMaxMessageSize || c.MaxMessageSize > DefaultMaxMessageSize:
		return bad("MaximumMessageSize %d is outside 1,024 to 1,048,576 bytes", c.MaxMessageSize)
	case (c.DeadLetterTargetARN == "") != (c.MaxReceiveCount == 0):
		return bad("a redrive policy needs both deadLetterTargetArn and maxReceiveCount")
	case c.MaxReceiveCount < 0 || c.MaxReceiveCount > maxReceiveCountLimit:
		return bad("maxReceiveCount %d is outside 1 to 1000", c.MaxReceiveCount)
	}
	return c, nil
}

func validQueueName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	for _, r := range strings.TrimSuffix(name, ".fifo") {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ARN returns the ARN of the queue with the given name.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.region, s.account, name)
}

// URL returns a queue's URL on the server at base (scheme and host, e.g.
// http://127.0.0.1:3000): base/<account>/<name>, the shape SQS uses.
func (s *Service) URL(base, name string) string {
	return strings.TrimRight(base, "/") + "/" + s.account + "/" + name
}

// Names lists the queues in name order.
func (s *Service) Names() []string { return append([]string(nil), s.names...) }

// QueueByARN returns the name of the queue with that ARN.
func (s *Service) QueueByARN(arn string) (string, bool) {
	q, ok := s.queueByARN(arn)
	if !ok {
		return "", false
	}
	return q.cfg.Name, true
}

func (s *Service) queueByARN(arn string) (*queue, bool) {
	for _, q := range s.queues {
		if q.arn == arn {
			return q, true
		}
	}
	return nil, false
}

// queueFromURL finds the queue a QueueUrl names. Only the path counts
// (/<account>/<name>): the SDK sends the URL in the body and reaches the
// server through its endpoint setting, so the host may be the local
// server's or the shape a deployed queue's URL has.
func (s *Service) queueFromURL(u string) (*queue, *Error) {
	if u == "" {
		return nil, errMissing("QueueUrl")
	}
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 2 || parts[0] != s.account {
		return nil, errNoQueue()
	}
	q, ok := s.queues[parts[1]]
	if !ok {
		return nil, errNoQueue()
	}
	return q, nil
}

func (s *Service) queue(name string) (*queue, error) {
	q, ok := s.queues[name]
	if !ok {
		return nil, errNoQueue()
	}
	return q, nil
}

// queue is one queue's messages in the order they were sent.
type queue struct {
	cfg QueueConfig
	arn string
	dlq *queue

	mu       sync.Mutex
	messages []*message
	byID     map[string]*message
	// changed is closed (and replaced) whenever a message may have become
	// receivable sooner than a waiting receiver expects: long polls wait
	// on it.
	changed chan struct{}
}

// message is one message and where it stands.
type message struct {
	id         string
	body       string
	md5        string
	attrs      map[string]MessageAttribute
	attrsMD5   string
	traceHdr   string
	sentAt     time.Time
	visibleAt  time.Time // hidden until then: delayed or in flight
	received   int
	firstRecv  time.Time
	receipt    string // the latest receipt handle, "" before the first receive
	deadSource string // ARN of the queue it was moved from, on a DLQ
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// notify wakes long polls; q.mu must be held.
func (q *queue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// expire drops messages past the retention period; q.mu must be held. A
// message moved to a dead-letter queue keeps its original send time, as
// it does in SQS, so it expires on the same day it would have.
func (q *queue) expire(now time.Time) {
	keep := q.messages[:0]
	for _, m := range q.messages {
		if now.Sub(m.sentAt) >= q.cfg.RetentionPeriod {
			delete(q.byID, m.id)
			continue
		}
		keep = append(keep, m)
	}
	clear(q.messages[len(keep):])
	q.messages = keep
}

// remove drops one message; q.mu must be held.
func (q *queue) remove(m *message) {
	delete(q.byID, m.id)
	for i, x := range q.messages {
		if x == m {
			q.messages = append(q.messages[:i], q.messages[i+1:]...)
			return
		}
	}
}

// Depth counts a queue's messages as GetQueueAttributes reports them.
type Depth struct {
	// Visible can be received now; InFlight were received and are neither
	// deleted nor visible again; Delayed wait out their delay.
	Visible, InFlight, Delayed int
}

// Depth counts the messages of the named queue.
func (s *Service) Depth(name string) (Depth, error) {
	q, err := s.queue(name)
	if err != nil {
		return Depth{}, err
	}
	return q.depth(s.now()), nil
}

func (q *queue) depth(now time.Time) Depth {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expire(now)
	var d Depth
	for _, m := range q.messages {
		switch {
		case !m.visibleAt.After(now):
			d.Visible++
		case m.received > 0:
			d.InFlight++
		default:
			d.Delayed++
		}
	}
	return d
}
