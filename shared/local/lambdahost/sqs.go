package lambdahost

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"tailor/shared/local/samtemplate"
	"tailor/shared/local/sqsemu"
)

// The template's queues, served by the SQS JSON API at the server's root
// (the SDK posts every SQS call there with X-Amz-Target: AmazonSQS.*), and
// the event source mappings that feed them to functions (sqsmapping.go).
// Runtimes get AWS_ENDPOINT_URL_SQS pointing at the server, and a variable
// that resolves to a queue's URL (!Ref Queue, !GetAtt Queue.QueueUrl) gets
// the queue's local URL, <server>/<account>/<name>, so a function that
// sends to a queue reaches it with no code branch.

// SQSEndpointVar is the variable that points a runtime's SQS client at
// the server.
const SQSEndpointVar = "AWS_ENDPOINT_URL_SQS"

// sqsService names the emulated service in the access log.
const sqsService = "SQS"

// Queue describes one of the template's queues as the server runs it.
type Queue struct {
	// LogicalID is the template's name, Name the queue's local name
	// (TablePrefix + LogicalID), URL its local URL once the server listens.
	LogicalID string
	Name      string
	URL       string
	// VisibilityTimeout is the one in force (Config.QueueVisibilityTimeout
	// when set).
	VisibilityTimeout time.Duration
	// DeadLetterQueue is the logical id of the redrive target, "" for none;
	// MaxReceiveCount the receives before a message moves there.
	DeadLetterQueue string
	MaxReceiveCount int
	// Consumers are the functions whose SQS events poll the queue.
	Consumers []string
}

// newQueues builds the queue service from the template's queues, with
// Config.QueueVisibilityTimeout in force, and the event source mappings
// of the functions' SQS events.
func (s *Server) newQueues() error {
	defs, err := s.resolver.Queues()
	if err != nil {
		return err
	}
	configs := make([]sqsemu.QueueConfig, 0, len(defs))
	for _, q := range defs {
		if q.FIFO {
			return fmt.Errorf("queue %s: FIFO queues are not emulated locally", q.LogicalID)
		}
		c := sqsemu.QueueConfig{
			Name:                q.Name,
			VisibilityTimeout:   seconds(q.VisibilityTimeout),
			RetentionPeriod:     seconds(q.MessageRetentionPeriod),
			Delay:               seconds(q.DelaySeconds),
			ReceiveWaitTime:     seconds(q.ReceiveMessageWaitTimeSeconds),
			MaxMessageSize:      q.MaximumMessageSize,
			DeadLetterTargetARN: q.DeadLetterTargetARN,
			MaxReceiveCount:     q.MaxReceiveCount,
		}
		if s.cfg.QueueVisibilityTimeout > 0 {
			c.VisibilityTimeout = s.cfg.QueueVisibilityTimeout
		}
		configs = append(configs, c)
		// The URL the template's !Ref gives, which a runtime's variable
		// holds until runtimeEnv replaces it with the local one.
		url, err := s.resolver.Resolve(samtemplate.NewValue(map[string]any{"Ref": q.LogicalID}))
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.LogicalID, err)
		}
		s.queueURLs[url] = q.Name
		s.queueDefs = append(s.queueDefs, q)
	}
	s.queues, err = sqsemu.New(sqsemu.Options{Region: s.cfg.Region, Account: samtemplate.DefaultAccountID}, configs...)
	if err != nil {
		return err
	}
	for _, def := range s.tpl.Functions {
		for _, e := range def.Events {
			if e.SQS == nil {
				continue
			}
			m, err := s.newMapping(s.functions[def.LogicalID], e)
			if err != nil {
				return fmt.Errorf("%s event %s: %w", def.LogicalID, e.Name, err)
			}
			if m != nil {
				s.mappings = append(s.mappings, m)
			}
		}
	}
	return nil
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// Queues describes the template's queues in name order.
func (s *Server) Queues() []Queue {
	base := ""
	if u := s.url.Load(); u != nil {
		base = *u
	}
	byARN := map[string]string{}
	for _, q := range s.queueDefs {
		byARN[q.ARN] = q.LogicalID
	}
	out := make([]Queue, 0, len(s.queueDefs))
	for _, q := range s.queueDefs {
		d := Queue{LogicalID: q.LogicalID, Name: q.Name, VisibilityTimeout: seconds(q.VisibilityTimeout),
			DeadLetterQueue: byARN[q.DeadLetterTargetARN], MaxReceiveCount: q.MaxReceiveCount}
		if d.VisibilityTimeout == 0 {
			d.VisibilityTimeout = sqsemu.DefaultVisibilityTimeout
		}
		if s.cfg.QueueVisibilityTimeout > 0 {
			d.VisibilityTimeout = s.cfg.QueueVisibilityTimeout
		}
		if base != "" {
			d.URL = s.queues.URL(base, q.Name)
		}
		for _, m := range s.mappings {
			if m.queue == q.Name {
				d.Consumers = append(d.Consumers, m.fn.def.LogicalID)
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// queueEnv gives a runtime of fn the local URL of every queue one of its
// variables holds the template's URL of, unless Config.Env sets that
// variable; base is the server's URL.
func (s *Server) queueEnv(fn *function, base string) []string {
	var out []string
	for _, kv := range fn.env {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := s.queueURLs[v]
		if !ok {
			continue
		}
		if _, set := s.cfg.Env[k]; set {
			continue
		}
		out = append(out, k+"="+s.queues.URL(base, name))
	}
	return out
}

// serveSQS answers the SQS API.
func (s *Server) serveSQS(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	info.routeKey, info.function = sqsemu.TargetPrefix+sqsemu.Operation(r), sqsService
	s.queues.ServeHTTP(w, r)
}
