// Package obs sets up what every function emits about itself: JSON log lines
// (slog) carrying the Lambda request id, and CloudWatch Embedded Metric
// Format lines for numbers worth graphing. It never logs request bodies;
// callers must not pass personal data as attributes.
package obs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns a JSON logger writing to w at the level named by
// AWS_LAMBDA_LOG_LEVEL (set by Lambda from the template's LoggingConfig),
// INFO when unset. Each record made with a *Context method carries the
// invocation's requestId.
func NewLogger(w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       parseLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")),
		ReplaceAttr: lambdacontext.ReplaceAttr,
	})
	return slog.New(requestIDHandler{h})
}

func parseLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "DEBUG", "TRACE":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Metric is one named value in an Embedded Metric Format line.
type Metric struct {
	Name  string
	Unit  string // Count, Milliseconds, ...
	Value float64
}

// EmitMetrics writes one CloudWatch Embedded Metric Format line to w under
// the Tailor namespace with the given dimensions. CloudWatch Logs turns the
// line into metrics without any API call from the function.
func EmitMetrics(w io.Writer, now time.Time, dims map[string]string, ms ...Metric) error {
	doc := map[string]any{}
	dimNames := make([]string, 0, len(dims))
	for k, v := range dims {
		doc[k] = v
		dimNames = append(dimNames, k)
	}
	defs := make([]map[string]string, 0, len(ms))
	for _, m := range ms {
		doc[m.Name] = m.Value
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  "Tailor",
			"Dimensions": [][]string{dimNames},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
