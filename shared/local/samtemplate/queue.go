package samtemplate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Queue is one AWS::SQS::Queue with its attributes resolved. Durations
// are in seconds and sizes in bytes, as the template writes them; 0 means
// unset (SQS's default applies).
type Queue struct {
	// LogicalID is the template's name; Name the local physical name
	// (TablePrefix + LogicalID), ARN the queue's ARN.
	LogicalID string
	Name      string
	ARN       string

	VisibilityTimeout             int
	MessageRetentionPeriod        int
	DelaySeconds                  int
	ReceiveMessageWaitTimeSeconds int
	MaximumMessageSize            int
	// FIFO is FifoQueue.
	FIFO bool
	// DeadLetterTargetARN and MaxReceiveCount are the RedrivePolicy.
	DeadLetterTargetARN string
	MaxReceiveCount     int
}

// Queues lists the template's queues in logical id order, leaving out
// those whose Condition is false.
func (r *Resolver) Queues() ([]Queue, error) {
	var out []Queue
	var problems []string
	for _, id := range sortedKeys(r.Template.Resources) {
		res := r.Template.Resources[id]
		if res.Type != TypeQueue {
			continue
		}
		on, err := r.Included(res)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !on {
			continue
		}
		q, err := r.queue(res)
		if err != nil {
			problems = append(problems, fmt.Sprintf("queue %s: %v", id, err))
			continue
		}
		out = append(out, q)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("queues: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

func (r *Resolver) queue(res Resource) (Queue, error) {
	arn, err := r.getAtt(res.LogicalID, "Arn")
	if err != nil {
		return Queue{}, err
	}
	q := Queue{LogicalID: res.LogicalID, Name: r.TableName(res.LogicalID), ARN: arn.(string)}
	props, _ := res.Properties.Map()
	for field, dst := range map[string]*int{
		"VisibilityTimeout":             &q.VisibilityTimeout,
		"MessageRetentionPeriod":        &q.MessageRetentionPeriod,
		"DelaySeconds":                  &q.DelaySeconds,
		"ReceiveMessageWaitTimeSeconds": &q.ReceiveMessageWaitTimeSeconds,
		"MaximumMessageSize":            &q.MaximumMessageSize,
	} {
		if *dst, err = r.resolveInt(props[field]); err != nil {
			return Queue{}, fmt.Errorf("%s: %w", field, err)
		}
	}
	if fifo, err := r.Resolve(props["FifoQueue"]); err != nil {
		return Queue{}, fmt.Errorf("FifoQueue: %w", err)
	} else {
		q.FIFO = fifo == "true"
	}
	if props["RedrivePolicy"].IsZero() {
		return q, nil
	}
	// RedrivePolicy is a mapping in templates, or the JSON text the SQS
	// API uses.
	policy, err := r.eval(props["RedrivePolicy"].raw)
	if err != nil {
		return Queue{}, fmt.Errorf("RedrivePolicy: %w", err)
	}
	if text, ok := policy.(string); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			return Queue{}, fmt.Errorf("RedrivePolicy: %w", err)
		}
		policy = m
	}
	m, ok := policy.(map[string]any)
	if !ok {
		return Queue{}, fmt.Errorf("RedrivePolicy is not a mapping")
	}
	if q.DeadLetterTargetARN, err = render(m["deadLetterTargetArn"]); err != nil {
		return Queue{}, fmt.Errorf("RedrivePolicy deadLetterTargetArn: %w", err)
	}
	if q.MaxReceiveCount, err = r.resolveInt(Value{raw: m["maxReceiveCount"]}); err != nil {
		return Queue{}, fmt.Errorf("RedrivePolicy maxReceiveCount: %w", err)
	}
	return q, nil
}

// resolveInt resolves a value that must be a whole number; 0 when absent.
func (r *Resolver) resolveInt(v Value) (int, error) {
	if v.IsZero() {
		return 0, nil
	}
	s, err := r.Resolve(v)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return int(f), nil
}
