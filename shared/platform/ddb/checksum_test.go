package ddb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"
)

// sdkLog collects what the SDK logs.
type sdkLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *sdkLog) logger() logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, string(c)+" "+fmt.Sprintf(format, v...))
	})
}

func (l *sdkLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// crcServer answers DescribeTable by table name as DynamoDB Local does:
// "missing" is an error without X-Amz-Crc32, "right" a table with the
// header, and "wrong" a table with a header that does not match.
func crcServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ TableName string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if in.TableName == "missing" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"Cannot do operations on a non-existent table"}`)
			return
		}
		body := `{"Table":{"TableName":"` + in.TableName + `"}}`
		sum := crc32.ChecksumIEEE([]byte(body))
		if in.TableName == "wrong" {
			sum++
		}
		w.Header().Set(crc32Header, strconv.FormatUint(uint64(sum), 10))
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func crcClient(url string, log logging.Logger, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		Logger:           log,
		RetryMaxAttempts: 1,
	}, opts...)
}

func describe(t *testing.T, db *dynamodb.Client, table string) error {
	t.Helper()
	_, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	return err
}

// The SDK's own check logs a warning for an error response without the
// header: the cause of the warnings `make run` printed.
func TestSDKCheckWarnsWithoutTheHeader(t *testing.T) {
	srv := crcServer(t)
	log := &sdkLog{}
	err := describe(t, crcClient(srv.URL, log.logger()), "missing")
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err %v", err)
	}
	if len(log.all()) == 0 {
		t.Fatal("the SDK's check no longer warns about a missing header: verifyCRC32WhenSent may be unneeded")
	}
}

func TestVerifyCRC32WhenSent(t *testing.T) {
	srv := crcServer(t)
	log := &sdkLog{}
	db := crcClient(srv.URL, log.logger(), verifyCRC32WhenSent)

	var nf *types.ResourceNotFoundException
	if err := describe(t, db, "missing"); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
	}
	if err := describe(t, db, "right"); err != nil {
		t.Fatalf("right: %v", err)
	}
	if got := log.all(); len(got) != 0 {
		t.Fatalf("warnings for responses without a header or with a matching one: %q", got)
	}
	if err := describe(t, db, "wrong"); err != nil {
		t.Fatalf("wrong: %v", err)
	}
	if got := log.all(); len(got) != 1 {
		t.Fatalf("a body that does not match its header gave %d warnings, want 1: %q", len(got), got)
	}
}

// A body is compared with its header once read to its end, and not when
// its reading stopped early (a connection closed under it).
func TestCRC32BodyComparesOnlyAWholeBody(t *testing.T) {
	body := func(want uint32) *crc32Body {
		h := crc32.NewIEEE()
		r := strings.NewReader(`{"Table":{"TableName":"right"}}`)
		return &crc32Body{Reader: io.TeeReader(r, h), body: io.NopCloser(r), hash: h, want: want}
	}
	right := crc32.ChecksumIEEE([]byte(`{"Table":{"TableName":"right"}}`))

	whole := body(right)
	if _, err := io.ReadAll(whole); err != nil || whole.Close() != nil {
		t.Fatal("a whole body that matches was reported")
	}
	wrong := body(right + 1)
	if _, err := io.ReadAll(wrong); err != nil || wrong.Close() == nil {
		t.Fatal("a whole body that does not match was not reported")
	}
	part := body(right)
	if _, err := part.Read(make([]byte, 5)); err != nil || part.Close() != nil {
		t.Fatal("a body read in part was compared as if whole")
	}
}
