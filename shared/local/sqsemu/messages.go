package sqsemu

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MessageAttribute is a message attribute as the API carries it: a data
// type (String, Number or Binary, optionally followed by a dot and a
// custom label) and the value that goes with it.
type MessageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

// SendInput is one message to send.
type SendInput struct {
	Body string
	// Delay overrides the queue's delay for this message when set.
	Delay *time.Duration
	// Attributes are the message attributes, at most 10.
	Attributes map[string]MessageAttribute
	// TraceHeader is the AWSTraceHeader system attribute.
	TraceHeader string
}

// SendOutput is what SendMessage answers.
type SendOutput struct {
	MessageID       string
	MD5OfBody       string
	MD5OfAttributes string // "" when the message has no attributes
}

// Message is a received message with every system and message attribute,
// as Lambda's event source mapping passes it on.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	MD5OfBody     string
	// Attributes are the system attributes: SenderId, SentTimestamp,
	// ApproximateReceiveCount, ApproximateFirstReceiveTimestamp, and
	// AWSTraceHeader and DeadLetterQueueSourceArn when they apply.
	Attributes             map[string]string
	MessageAttributes      map[string]MessageAttribute
	MD5OfMessageAttributes string
}

// ReceiveInput says how to receive.
type ReceiveInput struct {
	// Max is how many messages to take at most, at least 1.
	Max int
	// Wait is the long-poll wait: Receive returns as soon as one message
	// is there, or empty after Wait.
	Wait time.Duration
	// VisibilityTimeout overrides the queue's for these messages when set.
	VisibilityTimeout *time.Duration
}

// Send adds a message to the named queue.
func (s *Service) Send(name string, in SendInput) (SendOutput, error) {
	q, err := s.queue(name)
	if err != nil {
		return SendOutput{}, err
	}
	out, e := q.send(s.now(), in)
	if e != nil {
		return SendOutput{}, e
	}
	return out, nil
}

func (q *queue) send(now time.Time, in SendInput) (SendOutput, *Error) {
	if in.Body == "" {
		return SendOutput{}, errMissing("MessageBody")
	}
	if !validBody(in.Body) {
		return SendOutput{}, errContents()
	}
	delay := q.cfg.Delay
	if in.Delay != nil {
		delay = *in.Delay
	}
	if delay < 0 || delay > maxDelay {
		return SendOutput{}, errInvalid("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", int(delay/time.Second))
	}
	size, e := checkAttributes(in.Attributes)
	if e != nil {
		return SendOutput{}, e
	}
	if size += len(in.Body); size > q.cfg.MaxMessageSize {
		return SendOutput{}, errInvalid("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.cfg.MaxMessageSize)
	}
	m := &message{
		id:        newID(),
		body:      in.Body,
		md5:       md5Hex(in.Body),
		attrs:     in.Attributes,
		attrsMD5:  AttributesMD5(in.Attributes),
		traceHdr:  in.TraceHeader,
		sentAt:    now,
		visibleAt: now.Add(delay),
	}
	q.mu.Lock()
	q.messages = append(q.messages, m)
	q.byID[m.id] = m
	q.notify()
	q.mu.Unlock()
	return SendOutput{MessageID: m.id, MD5OfBody: m.md5, MD5OfAttributes: m.attrsMD5}, nil
}

// validBody applies SQS's character rule: #x9 | #xA | #xD | #x20 to
// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// checkAttributes applies SQS's rules for message attributes and returns
// their size as it counts towards the message size: names, types and
// values.
func checkAttributes(attrs map[string]MessageAttribute) (int, *Error) {
	if len(attrs) > 10 {
		return 0, errInvalid("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	size := 0
	for name, a := range attrs {
		if !validAttributeName(name) {
			return 0, errInvalid("Message attribute name '%s' is invalid.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == nil {
				return 0, errInvalid("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(*a.StringValue, 64); err != nil {
					return 0, errInvalid("Could not cast message attribute '%s' value to number.", name)
				}
			}
			if !validBody(*a.StringValue) {
				return 0, errContents()
			}
			size += len(*a.StringValue)
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return 0, errInvalid("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
			size += len(a.BinaryValue)
		default:
			return 0, errInvalid("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
			return 0, errInvalid("Message (user) attribute '%s': list values are reserved for future use.", name)
		}
		size += len(name) + len(a.DataType)
	}
	return size, nil
}

func validAttributeName(name string) bool {
	if name == "" || len(name) > 256 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// AttributesMD5 is the MD5OfMessageAttributes SQS computes: over the
// attributes in name order, each as its name, its data type, a transport
// byte (1 for string values, 2 for binary) and its value, every string
// preceded by its length as four big-endian bytes. "" when there are
// none.
func AttributesMD5(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		field([]byte(n))
		field([]byte(a.DataType))
		if a.StringValue != nil {
			h.Write([]byte{1})
			field([]byte(*a.StringValue))
		} else {
			h.Write([]byte{2})
			field(a.BinaryValue)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// receipt handles name the queue and message they were issued for and are
// unique per receive.
func newReceipt(queue, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(queue + "\x00" + id + "\x00" + newID()))
}

func parseReceipt(handle string) (queue, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// Receive takes up to in.Max visible messages from the named queue and
// hides them for the visibility timeout. With in.Wait it long-polls: it
// returns as soon as at least one message is there, or with none after
// the wait. A message already received maxReceiveCount times moves to the
// dead-letter queue instead of being delivered again. The error is ctx's
// when ctx ends during the wait.
func (s *Service) Receive(ctx context.Context, name string, in ReceiveInput) ([]Message, error) {
	q, err := s.queue(name)
	if err != nil {
		return nil, err
	}
	msgs, e := q.receive(ctx, s, in)
	if e != nil {
		return nil, e
	}
	return msgs, nil
}

func (q *queue) receive(ctx context.Context, s *Service, in ReceiveInput) ([]Message, error) {
	if in.Max < 1 {
		return nil, errInvalid("MaxNumberOfMessages must be at least 1")
	}
	vis := q.cfg.VisibilityTimeout
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
	}
	if vis < 0 || vis > maxVisibilityTimeout {
		return nil, errInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", int(vis/time.Second))
	}
	deadline := s.now().Add(in.Wait)
	for {
		now := s.now()
		q.mu.Lock()
		q.expire(now)
		var out []Message
		var dead []*message
		next := time.Time{}
		for i := 0; i < len(q.messages) && len(out) < in.Max; i++ {
			m := q.messages[i]
			if m.visibleAt.After(now) {
				if next.IsZero() || m.visibleAt.Before(next) {
					next = m.visibleAt
				}
				continue
			}
			if q.dlq != nil && m.received >= q.cfg.MaxReceiveCount {
				delete(q.byID, m.id)
				q.messages = append(q.messages[:i], q.messages[i+1:]...)
				i--
				dead = append(dead, m)
				continue
			}
			m.received++
			if m.received == 1 {
				m.firstRecv = now
			}
			m.receipt = newReceipt(q.cfg.Name, m.id)
			m.visibleAt = now.Add(vis)
			out = append(out, m.snapshot(s.account))
		}
		changed := q.changed
		q.mu.Unlock()
		if len(dead) > 0 {
			q.dlq.deadLetter(dead, q.arn, now)
		}
		if len(out) > 0 || !now.Before(deadline) {
			return out, nil
		}
		wake := deadline
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		timer := time.NewTimer(wake.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// deadLetter takes messages moved from the queue with ARN source. They
// keep their id, body, attributes, receive count and send time, and are
// visible at once.
func (q *queue) deadLetter(msgs []*message, source string, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range msgs {
		m.visibleAt = now
		m.receipt = ""
		m.deadSource = source
		q.messages = append(q.messages, m)
		q.byID[m.id] = m
	}
	q.notify()
}

func (m *message) snapshot(account string) Message {
	attrs := map[string]string{
		"SenderId":                         account,
		"SentTimestamp":                    strconv.FormatInt(m.sentAt.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.received),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecv.UnixMilli(), 10),
	}
	if m.traceHdr != "" {
		attrs["AWSTraceHeader"] = m.traceHdr
	}
	if m.deadSource != "" {
		attrs["DeadLetterQueueSourceArn"] = m.deadSource
	}
	return Message{
		ID:                     m.id,
		ReceiptHandle:          m.receipt,
		Body:                   m.body,
		MD5OfBody:              m.md5,
		Attributes:             attrs,
		MessageAttributes:      m.attrs,
		MD5OfMessageAttributes: m.attrsMD5,
	}
}

// Delete removes the message a receipt handle was issued for. As in SQS,
// deleting a message that is already gone succeeds, and so does a handle
// from an earlier receive, without deleting the message: only the latest
// receive may delete it.
func (s *Service) Delete(name, receipt string) error {
	q, err := s.queue(name)
	if err != nil {
		return err
	}
	if e := q.delete(receipt); e != nil {
		return e
	}
	return nil
}

func (q *queue) delete(receipt string) *Error {
	qname, id, ok := parseReceipt(receipt)
	if !ok || qname != q.cfg.Name {
		return errReceipt(receipt)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if m, ok := q.byID[id]; ok && m.receipt == receipt {
		q.remove(m)
	}
	return nil
}

// ChangeVisibility hides an in-flight message for timeout from now (0
// makes it visible at once).
func (s *Service) ChangeVisibility(name, receipt string, timeout time.Duration) error {
	q, err := s.queue(name)
	if err != nil {
		return err
	}
	if e := q.changeVisibility(s.now(), receipt, timeout); e != nil {
		return e
	}
	return nil
}

func (q *queue) changeVisibility(now time.Time, receipt string, timeout time.Duration) *Error {
	if timeout < 0 || timeout > maxVisibilityTimeout {
		return errInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", int(timeout/time.Second))
	}
	qname, id, ok := parseReceipt(receipt)
	if !ok || qname != q.cfg.Name {
		return errReceipt(receipt)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.byID[id]
	if !ok || m.receipt != receipt {
		return errReceipt(receipt)
	}
	if !m.visibleAt.After(now) {
		return errNotInflight()
	}
	m.visibleAt = now.Add(timeout)
	q.notify()
	return nil
}

// Purge deletes every message of the named queue.
func (s *Service) Purge(name string) error {
	q, err := s.queue(name)
	if err != nil {
		return err
	}
	q.purge()
	return nil
}

func (q *queue) purge() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.messages = nil
	clear(q.byID)
}

// asError returns err as an *Error, or nil and false.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
