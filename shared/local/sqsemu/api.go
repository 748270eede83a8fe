package sqsemu

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The wire protocol is AWS JSON 1.0 as the SQS model marks it
// awsQueryCompatible: POST / with X-Amz-Target: AmazonSQS.<Operation>,
// members named as in the model, and errors as {"__type", "message"} with
// the query-protocol code in x-amzn-query-error ("<code>;Sender"), which
// the SDK reports as the error's code.

// TargetPrefix starts the X-Amz-Target header of every SQS operation.
const TargetPrefix = "AmazonSQS."

// contentType is the media type of AWS JSON 1.0 requests and answers.
const contentType = "application/x-amz-json-1.0"

// maxRequestBody bounds what is read of one request: a batch of messages
// within the 1 MiB limit, JSON-escaped, fits well within it.
const maxRequestBody = 8 << 20

// IsRequest reports whether r is a call of the SQS API.
func IsRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// Operation returns the SQS operation r calls, "" for none.
func Operation(r *http.Request) string {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	return op
}

// ServeHTTP answers one SQS API call. Queue URLs in answers are on the
// host the request was sent to.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsRequest(r) {
		writeError(w, clientError("UnknownOperationException", "UnknownOperationException", "expected POST with X-Amz-Target: AmazonSQS.<Operation>"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(body) > maxRequestBody {
		writeError(w, clientError("SerializationException", "SerializationException", "could not read the request body"))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	op := Operation(r)
	var out any
	var e *Error
	switch op {
	case "SendMessage":
		out, e = decodeAnd(body, s.apiSend)
	case "SendMessageBatch":
		out, e = decodeAnd(body, s.apiSendBatch)
	case "ReceiveMessage":
		var in receiveRequest
		if e = decode(body, &in); e == nil {
			out, e = s.apiReceive(r, in)
		}
	case "DeleteMessage":
		out, e = decodeAnd(body, s.apiDelete)
	case "DeleteMessageBatch":
		out, e = decodeAnd(body, s.apiDeleteBatch)
	case "ChangeMessageVisibility":
		out, e = decodeAnd(body, s.apiChangeVisibility)
	case "ChangeMessageVisibilityBatch":
		out, e = decodeAnd(body, s.apiChangeVisibilityBatch)
	case "GetQueueUrl":
		var in getQueueURLRequest
		if e = decode(body, &in); e == nil {
			out, e = s.apiGetQueueURL(base, in)
		}
	case "ListQueues":
		var in listQueuesRequest
		if e = decode(body, &in); e == nil {
			out, e = s.apiListQueues(base, in)
		}
	case "GetQueueAttributes":
		out, e = decodeAnd(body, s.apiGetQueueAttributes)
	case "PurgeQueue":
		out, e = decodeAnd(body, s.apiPurge)
	case "CreateQueue", "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue", "ListQueueTags",
		"AddPermission", "RemovePermission", "ListDeadLetterSourceQueues", "StartMessageMoveTask",
		"CancelMessageMoveTask", "ListMessageMoveTasks":
		e = errUnsupported(op)
	default:
		e = clientError("UnknownOperationException", "UnknownOperationException", "unknown operation %s", op)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Requestid", newID())
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", newID())
	h.Set("X-Amzn-Query-Error", e.Code+";Sender")
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + e.Type, "message": e.Message})
	_, _ = w.Write(b)
}

func decode(body []byte, v any) *Error {
	if err := json.Unmarshal(body, v); err != nil {
		return clientError("SerializationException", "SerializationException", "the request body does not match the operation's input: %v", err)
	}
	return nil
}

// decodeAnd decodes the input of an operation and runs it.
func decodeAnd[In any](body []byte, op func(In) (any, *Error)) (any, *Error) {
	var in In
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	return op(in)
}

// empty is the answer of operations that return nothing.
type empty struct{}

type systemAttribute struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
}

type sendEntry struct {
	ID                      string                      `json:"Id"`
	QueueURL                string                      `json:"QueueUrl"`
	MessageBody             string                      `json:"MessageBody"`
	DelaySeconds            *int                        `json:"DelaySeconds"`
	MessageAttributes       map[string]MessageAttribute `json:"MessageAttributes"`
	MessageSystemAttributes map[string]systemAttribute  `json:"MessageSystemAttributes"`
	MessageDeduplicationID  *string                     `json:"MessageDeduplicationId"`
	MessageGroupID          *string                     `json:"MessageGroupId"`
}

type sendResult struct {
	ID                     string `json:"Id,omitempty"`
	MessageID              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
}

type batchFailure struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

func (s *Service) sendInput(e sendEntry) (SendInput, *Error) {
	in := SendInput{Body: e.MessageBody, Attributes: e.MessageAttributes}
	if e.DelaySeconds != nil {
		d := time.Duration(*e.DelaySeconds) * time.Second
		in.Delay = &d
	}
	if e.MessageDeduplicationID != nil {
		return SendInput{}, errInvalid("The request includes a parameter that is not valid for this queue type. Reason: MessageDeduplicationId is for FIFO queues.")
	}
	for name, a := range e.MessageSystemAttributes {
		if name != "AWSTraceHeader" || a.DataType != "String" || a.StringValue == nil {
			return SendInput{}, errInvalid("Message system attribute '%s' is not supported; only AWSTraceHeader, a String, is.", name)
		}
		in.TraceHeader = *a.StringValue
	}
	return in, nil
}

func (s *Service) apiSend(in sendEntry) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	msg, e := s.sendInput(in)
	if e != nil {
		return nil, e
	}
	out, e := q.send(s.now(), msg)
	if e != nil {
		return nil, e
	}
	return sendResult{MessageID: out.MessageID, MD5OfMessageBody: out.MD5OfBody, MD5OfMessageAttributes: out.MD5OfAttributes}, nil
}

type sendBatchRequest struct {
	QueueURL string      `json:"QueueUrl"`
	Entries  []sendEntry `json:"Entries"`
}

type sendBatchResult struct {
	Successful []sendResult   `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatch applies the checks that fail a whole batch call.
func checkBatch(ids []string) *Error {
	switch {
	case len(ids) == 0:
		return errEmptyBatch()
	case len(ids) > maxBatchEntries:
		return errTooManyEntries(len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return errBatchEntryID(id)
		}
		if seen[id] {
			return errIDsNotDistinct(id)
		}
		seen[id] = true
	}
	return nil
}

func failure(id string, e *Error) batchFailure {
	return batchFailure{ID: id, SenderFault: true, Code: e.Code, Message: e.Message}
}

func (s *Service) apiSendBatch(in sendBatchRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, en := range in.Entries {
		ids[i] = en.ID
		size, _ := checkAttributes(en.MessageAttributes)
		total += len(en.MessageBody) + size
	}
	if e := checkBatch(ids); e != nil {
		return nil, e
	}
	if total > q.cfg.MaxMessageSize {
		return nil, errBatchTooLong(total, q.cfg.MaxMessageSize)
	}
	out := sendBatchResult{Successful: []sendResult{}, Failed: []batchFailure{}}
	now := s.now()
	for _, en := range in.Entries {
		msg, e := s.sendInput(en)
		if e == nil {
			var r SendOutput
			if r, e = q.send(now, msg); e == nil {
				out.Successful = append(out.Successful, sendResult{ID: en.ID, MessageID: r.MessageID,
					MD5OfMessageBody: r.MD5OfBody, MD5OfMessageAttributes: r.MD5OfAttributes})
				continue
			}
		}
		out.Failed = append(out.Failed, failure(en.ID, e))
	}
	return out, nil
}

type receiveRequest struct {
	QueueURL                    string   `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
}

type wireMessage struct {
	MessageID              string                      `json:"MessageId"`
	ReceiptHandle          string                      `json:"ReceiptHandle"`
	MD5OfBody              string                      `json:"MD5OfBody"`
	Body                   string                      `json:"Body"`
	Attributes             map[string]string           `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                      `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]MessageAttribute `json:"MessageAttributes,omitempty"`
}

type receiveResult struct {
	Messages []wireMessage `json:"Messages,omitempty"`
}

func (s *Service) apiReceive(r *http.Request, in receiveRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > maxReceiveMessages {
			return nil, errInvalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	wait := q.cfg.ReceiveWaitTime
	if in.WaitTimeSeconds != nil {
		wait = time.Duration(*in.WaitTimeSeconds) * time.Second
		if wait < 0 || wait > maxWaitTime {
			return nil, errInvalid("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
		}
	}
	rin := ReceiveInput{Max: max, Wait: wait}
	if in.VisibilityTimeout != nil {
		v := time.Duration(*in.VisibilityTimeout) * time.Second
		rin.VisibilityTimeout = &v
	}
	msgs, err := q.receive(r.Context(), s, rin)
	if err != nil {
		if ae, ok := asError(err); ok {
			return nil, ae
		}
		// The client went away during the wait: nothing was taken.
		return receiveResult{}, nil
	}
	system := nameFilter(append(append([]string(nil), in.AttributeNames...), in.MessageSystemAttributeNames...))
	user := nameFilter(in.MessageAttributeNames)
	out := receiveResult{}
	for _, m := range msgs {
		wm := wireMessage{MessageID: m.ID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body}
		for k, v := range m.Attributes {
			if system.match(k) {
				if wm.Attributes == nil {
					wm.Attributes = map[string]string{}
				}
				wm.Attributes[k] = v
			}
		}
		for k, v := range m.MessageAttributes {
			if user.match(k) {
				if wm.MessageAttributes == nil {
					wm.MessageAttributes = map[string]MessageAttribute{}
				}
				wm.MessageAttributes[k] = v
			}
		}
		wm.MD5OfMessageAttributes = AttributesMD5(wm.MessageAttributes)
		out.Messages = append(out.Messages, wm)
	}
	return out, nil
}

// nameFilter selects attributes by the names a ReceiveMessage call asks
// for: All (or .* for message attributes), an exact name, or a prefix
// ending in .*.
type nameFilter []string

func (f nameFilter) match(name string) bool {
	for _, want := range f {
		switch {
		case want == "All" || want == ".*":
			return true
		case strings.HasSuffix(want, ".*") && strings.HasPrefix(name, strings.TrimSuffix(want, "*")):
			return true
		case want == name:
			return true
		}
	}
	return false
}

type deleteRequest struct {
	QueueURL      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

func (s *Service) apiDelete(in deleteRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	if in.ReceiptHandle == "" {
		return nil, errMissing("ReceiptHandle")
	}
	if e := q.delete(in.ReceiptHandle); e != nil {
		return nil, e
	}
	return empty{}, nil
}

type batchEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout int    `json:"VisibilityTimeout"`
}

type batchRequest struct {
	QueueURL string       `json:"QueueUrl"`
	Entries  []batchEntry `json:"Entries"`
}

type batchOK struct {
	ID string `json:"Id"`
}

type batchResult struct {
	Successful []batchOK      `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

// eachEntry runs op on every entry of a batch call after the call-wide
// checks, collecting per-entry outcomes.
func (s *Service) eachEntry(in batchRequest, op func(*queue, batchEntry) *Error) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	ids := make([]string, len(in.Entries))
	for i, en := range in.Entries {
		ids[i] = en.ID
	}
	if e := checkBatch(ids); e != nil {
		return nil, e
	}
	out := batchResult{Successful: []batchOK{}, Failed: []batchFailure{}}
	for _, en := range in.Entries {
		if e := op(q, en); e != nil {
			out.Failed = append(out.Failed, failure(en.ID, e))
			continue
		}
		out.Successful = append(out.Successful, batchOK{ID: en.ID})
	}
	return out, nil
}

func (s *Service) apiDeleteBatch(in batchRequest) (any, *Error) {
	return s.eachEntry(in, func(q *queue, en batchEntry) *Error { return q.delete(en.ReceiptHandle) })
}

type changeVisibilityRequest struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

func (s *Service) apiChangeVisibility(in changeVisibilityRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	if in.VisibilityTimeout == nil {
		return nil, errMissing("VisibilityTimeout")
	}
	if e := q.changeVisibility(s.now(), in.ReceiptHandle, time.Duration(*in.VisibilityTimeout)*time.Second); e != nil {
		return nil, e
	}
	return empty{}, nil
}

func (s *Service) apiChangeVisibilityBatch(in batchRequest) (any, *Error) {
	now := s.now()
	return s.eachEntry(in, func(q *queue, en batchEntry) *Error {
		return q.changeVisibility(now, en.ReceiptHandle, time.Duration(en.VisibilityTimeout)*time.Second)
	})
}

type getQueueURLRequest struct {
	QueueName              string `json:"QueueName"`
	QueueOwnerAWSAccountID string `json:"QueueOwnerAWSAccountId"`
}

func (s *Service) apiGetQueueURL(base string, in getQueueURLRequest) (any, *Error) {
	if in.QueueName == "" {
		return nil, errMissing("QueueName")
	}
	if in.QueueOwnerAWSAccountID != "" && in.QueueOwnerAWSAccountID != s.account {
		return nil, errNoQueue()
	}
	if _, ok := s.queues[in.QueueName]; !ok {
		return nil, errNoQueue()
	}
	return struct {
		QueueURL string `json:"QueueUrl"`
	}{s.URL(base, in.QueueName)}, nil
}

type listQueuesRequest struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	MaxResults      *int   `json:"MaxResults"`
	NextToken       string `json:"NextToken"`
}

func (s *Service) apiListQueues(base string, in listQueuesRequest) (any, *Error) {
	limit := 1000
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 || limit > 1000 {
			return nil, errInvalid("Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 1000, if provided.", limit)
		}
	}
	var names []string
	for _, n := range s.names {
		if strings.HasPrefix(n, in.QueueNamePrefix) && n > in.NextToken {
			names = append(names, n)
		}
	}
	out := struct {
		QueueURLs []string `json:"QueueUrls,omitempty"`
		NextToken string   `json:"NextToken,omitempty"`
	}{}
	for i, n := range names {
		if i == limit {
			// Paging only when asked to, as SQS does.
			if in.MaxResults != nil {
				out.NextToken = names[i-1]
			}
			break
		}
		out.QueueURLs = append(out.QueueURLs, s.URL(base, n))
	}
	return out, nil
}

type attributesRequest struct {
	QueueURL       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

// queueAttributes are the names GetQueueAttributes answers, in the order
// All lists them.
var queueAttributes = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
	"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "QueueArn",
	"ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy",
}

func (s *Service) apiGetQueueAttributes(in attributesRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	d := q.depth(s.now())
	secs := func(t time.Duration) string { return strconv.Itoa(int(t / time.Second)) }
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(d.Visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(d.InFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(d.Delayed),
		"DelaySeconds":                          secs(q.cfg.Delay),
		"MaximumMessageSize":                    strconv.Itoa(q.cfg.MaxMessageSize),
		"MessageRetentionPeriod":                secs(q.cfg.RetentionPeriod),
		"QueueArn":                              q.arn,
		"ReceiveMessageWaitTimeSeconds":         secs(q.cfg.ReceiveWaitTime),
		"VisibilityTimeout":                     secs(q.cfg.VisibilityTimeout),
	}
	if q.cfg.DeadLetterTargetARN != "" {
		b, _ := json.Marshal(struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}{q.cfg.DeadLetterTargetARN, q.cfg.MaxReceiveCount})
		all["RedrivePolicy"] = string(b)
	}
	known := map[string]bool{}
	for _, n := range queueAttributes {
		known[n] = true
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			for k, v := range all {
				out[k] = v
			}
			continue
		}
		if !known[n] {
			return nil, clientError("InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", n)
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return struct {
		Attributes map[string]string `json:"Attributes,omitempty"`
	}{out}, nil
}

type purgeRequest struct {
	QueueURL string `json:"QueueUrl"`
}

func (s *Service) apiPurge(in purgeRequest) (any, *Error) {
	q, e := s.queueFromURL(in.QueueURL)
	if e != nil {
		return nil, e
	}
	q.purge()
	return empty{}, nil
}
