package samtemplate

import (
	"reflect"
	"testing"
)

const fixture = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
  Secret:
    Type: String
  BigTimeout:
    Type: Number
    Default: 12
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Mappings:
  Sizes:
    dev: {Memory: "512"}
    prod: {Memory: "3008"}
Globals:
  Function:
    Runtime: provided.al2023
    Architectures: [arm64]
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        STAGE: !Ref Stage
        SHARED: from-globals
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: KeyAuth
        Authorizers:
          KeyAuth:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
              ReauthorizeEvery: 60
  EventsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: gpk, AttributeType: S}
        - {AttributeName: lsk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema:
            - {AttributeName: gpk, KeyType: HASH}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [a, b]
      LocalSecondaryIndexes:
        - IndexName: byL
          KeySchema:
            - {AttributeName: pk, KeyType: HASH}
            - {AttributeName: lsk, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
      TimeToLiveSpecification:
        AttributeName: expires
        Enabled: true
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
  Simple:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: code, Type: Number}
  Queue:
    Type: AWS::SQS::Queue
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
  IngestFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Timeout: !Ref BigTimeout
      MemorySize: "1024"
      Architectures: [x86_64]
      Environment:
        Variables:
          EVENTS_TABLE: !Ref EventsTable
          EVENTS_ARN: !GetAtt EventsTable.Arn
          STREAM: !GetAtt [EventsTable, StreamArn]
          QUEUE_URL: !Ref Queue
          SUBBED: !Sub "${AWS::Region}/${Stage}/${EventsTable}/${!Literal}/${Queue.Arn}"
          SUBVARS: !Sub ["${X}-${Stage}", {X: !Ref Simple}]
          CHOSEN: !If [IsProd, big, small]
          CHOSEN2: !If [NotProd, yes-not-prod, no]
          JOINED: !Join ["-", [a, !Ref Stage, c]]
          MAPPED: !FindInMap [Sizes, !Ref Stage, Memory]
          SHARED: overridden
          LONGFORM: {"Fn::Sub": "${Stage}-long"}
          NUMBER: 42
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref EventsTable
      Events:
        Post:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: post
            Path: /v1/events
            TimeoutInMillis: 5000
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: GET
            Path: /health
            Auth:
              Authorizer: NONE
        Implicit:
          Type: HttpApi
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 2 * * ? *)
            Input: '{"mode":"full"}'
        Later:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            ScheduleExpressionTimezone: Europe/London
            State: DISABLED
        FromQueue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 25
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 5}
`

func parseFixture(t *testing.T) *Template {
	t.Helper()
	tpl, err := ParseBytes([]byte(fixture))
	if err != nil {
		t.Fatalf("ParseBytes: %v", err)
	}
	return tpl
}

func TestParseParameters(t *testing.T) {
	tpl := parseFixture(t)
	var names []string
	for _, p := range tpl.Parameters {
		names = append(names, p.Name)
	}
	if want := []string{"Stage", "Secret", "BigTimeout"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("parameter order = %v, want %v", names, want)
	}
	stage, _ := tpl.Parameter("Stage")
	if !stage.HasDefault || stage.Default != "dev" {
		t.Errorf("Stage = %+v", stage)
	}
	secret, _ := tpl.Parameter("Secret")
	if secret.HasDefault {
		t.Errorf("Secret has a default: %+v", secret)
	}
}

func TestParseFunctionMergesGlobals(t *testing.T) {
	tpl := parseFixture(t)
	fn, ok := tpl.Function("IngestFunction")
	if !ok {
		t.Fatal("IngestFunction missing")
	}
	if fn.Timeout != 12 || fn.MemorySize != 1024 || fn.Runtime != "provided.al2023" || fn.BuildMethod != "makefile" {
		t.Errorf("function = timeout %d memory %d runtime %q build %q", fn.Timeout, fn.MemorySize, fn.Runtime, fn.BuildMethod)
	}
	if want := []string{"arm64", "x86_64"}; !reflect.DeepEqual(fn.Architectures, want) {
		t.Errorf("Architectures = %v, want %v (SAM adds lists)", fn.Architectures, want)
	}
	if s, _ := fn.Environment["SHARED"].Literal(); s != "overridden" {
		t.Errorf("SHARED = %q, want the function's value", s)
	}
	if ref, _ := fn.Environment["STAGE"].Ref(); ref != "Stage" {
		t.Errorf("STAGE from globals = %v", fn.Environment["STAGE"])
	}
	if _, ok := fn.Policies.List(); !ok {
		t.Errorf("Policies = %v, want the raw list", fn.Policies)
	}
	auth, _ := tpl.Function("AuthorizerFunction")
	if auth.Timeout != 10 || auth.MemorySize != 256 {
		t.Errorf("AuthorizerFunction timeout %d memory %d, want globals 10/256", auth.Timeout, auth.MemorySize)
	}
}

func TestParseEvents(t *testing.T) {
	tpl := parseFixture(t)
	fn, _ := tpl.Function("IngestFunction")
	byName := map[string]Event{}
	for _, e := range fn.Events {
		byName[e.Name] = e
	}
	post := byName["Post"].HTTPAPI
	if post == nil || post.Method != "POST" || post.Path != "/v1/events" || post.APIID != "Api" || post.PayloadFormatVersion != "2.0" || post.TimeoutInMillis != 5000 {
		t.Errorf("Post = %+v", post)
	}
	if open := byName["Open"].HTTPAPI; open == nil || open.Auth == nil || open.Auth.Authorizer != NoAuthorizer {
		t.Errorf("Open = %+v", open)
	}
	if imp := byName["Implicit"].HTTPAPI; imp == nil || imp.APIID != ImplicitHTTPAPI || imp.Path != "$default" || imp.Method != "ANY" {
		t.Errorf("Implicit = %+v", imp)
	}
	nightly := byName["Nightly"].Schedule
	if nightly == nil || nightly.Expression.String() != "cron(0 2 * * ? *)" || nightly.Input != `{"mode":"full"}` || !nightly.Enabled {
		t.Errorf("Nightly = %+v", nightly)
	}
	later := byName["Later"].Schedule
	if later == nil || later.Expression.String() != "rate(1 hour)" || later.Timezone != "Europe/London" || later.Enabled {
		t.Errorf("Later = %+v", later)
	}
	q := byName["FromQueue"].SQS
	if q == nil || q.BatchSize != 25 || q.MaximumConcurrency != 5 || !q.Enabled || q.FunctionResponseTypes[0] != "ReportBatchItemFailures" {
		t.Errorf("FromQueue = %+v", q)
	}
	if r, a, _ := q.Queue.GetAtt(); r != "Queue" || a != "Arn" {
		t.Errorf("FromQueue queue = %v", q.Queue)
	}
	if _, ok := tpl.HTTPAPI(ImplicitHTTPAPI); !ok {
		t.Error("implicit HTTP API not added")
	}
}

func TestParseTables(t *testing.T) {
	tpl := parseFixture(t)
	tb, ok := tpl.Table("EventsTable")
	if !ok {
		t.Fatal("EventsTable missing")
	}
	want := Table{
		LogicalID:   "EventsTable",
		BillingMode: "PAY_PER_REQUEST",
		AttributeDefinitions: []AttributeDefinition{
			{"pk", "S"}, {"sk", "S"}, {"gpk", "S"}, {"lsk", "N"},
		},
		KeySchema: []KeyElement{{"pk", "HASH"}, {"sk", "RANGE"}},
		GlobalSecondaryIndexes: []SecondaryIndex{{
			IndexName: "byG", KeySchema: []KeyElement{{"gpk", "HASH"}},
			ProjectionType: "INCLUDE", NonKeyAttributes: []string{"a", "b"},
		}},
		LocalSecondaryIndexes: []SecondaryIndex{{
			IndexName: "byL", KeySchema: []KeyElement{{"pk", "HASH"}, {"lsk", "RANGE"}},
			ProjectionType: "KEYS_ONLY",
		}},
		TTLAttribute:   "expires",
		StreamViewType: "NEW_AND_OLD_IMAGES",
	}
	if !reflect.DeepEqual(tb, want) {
		t.Errorf("EventsTable =\n%+v\nwant\n%+v", tb, want)
	}
	if HashKey(tb.KeySchema) != "pk" || RangeKey(tb.KeySchema) != "sk" {
		t.Errorf("keys = %s/%s", HashKey(tb.KeySchema), RangeKey(tb.KeySchema))
	}
	simple, _ := tpl.Table("Simple")
	if simple.BillingMode != "PAY_PER_REQUEST" || !reflect.DeepEqual(simple.KeySchema, []KeyElement{{"code", "HASH"}}) ||
		!reflect.DeepEqual(simple.AttributeDefinitions, []AttributeDefinition{{"code", "N"}}) {
		t.Errorf("Simple = %+v", simple)
	}
}

func TestParseHTTPAPIAuth(t *testing.T) {
	tpl := parseFixture(t)
	api, ok := tpl.HTTPAPI("Api")
	if !ok {
		t.Fatal("Api missing")
	}
	a := api.Auth.Authorizers["KeyAuth"]
	if api.Auth.DefaultAuthorizer != "KeyAuth" || a.FunctionLogicalID != "AuthorizerFunction" ||
		a.PayloadFormatVersion != "2.0" || !a.EnableSimpleResponses || a.ReauthorizeEvery != 60 ||
		!reflect.DeepEqual(a.IdentityHeaders, []string{"Authorization"}) {
		t.Errorf("auth = %+v", api.Auth)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range routes {
		got[r.Key()] = r.Authorizer
	}
	want := map[string]string{"POST /v1/events": "KeyAuth", "GET /health": "", "$default": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route authorizers = %v, want %v", got, want)
	}
}

func TestResolve(t *testing.T) {
	tpl := parseFixture(t)
	fn, _ := tpl.Function("IngestFunction")
	tests := []struct {
		name   string
		params map[string]string
		want   map[string]string
	}{
		{
			name: "defaults",
			want: map[string]string{
				"STAGE":        "dev",
				"SHARED":       "overridden",
				"EVENTS_TABLE": "tl-EventsTable",
				"EVENTS_ARN":   "arn:aws:dynamodb:eu-west-2:123456789012:table/tl-EventsTable",
				"STREAM":       "arn:aws:dynamodb:eu-west-2:123456789012:table/tl-EventsTable/stream/1970-01-01T00:00:00.000",
				"QUEUE_URL":    "https://sqs.eu-west-2.amazonaws.com/123456789012/tl-Queue",
				"SUBBED":       "eu-west-2/dev/tl-EventsTable/${Literal}/arn:aws:sqs:eu-west-2:123456789012:tl-Queue",
				"SUBVARS":      "tl-Simple-dev",
				"CHOSEN":       "small",
				"CHOSEN2":      "yes-not-prod",
				"JOINED":       "a-dev-c",
				"MAPPED":       "512",
				"LONGFORM":     "dev-long",
				"NUMBER":       "42",
			},
		},
		{
			name:   "override",
			params: map[string]string{"Stage": "prod"},
			want:   map[string]string{"STAGE": "prod", "CHOSEN": "big", "CHOSEN2": "no", "JOINED": "a-prod-c", "MAPPED": "3008"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Resolver{Template: tpl, TablePrefix: "tl-", Params: tc.params, Region: "eu-west-2"}
			env, err := r.Environment(fn)
			if err != nil {
				t.Fatalf("Environment: %v", err)
			}
			for k, want := range tc.want {
				if env[k] != want {
					t.Errorf("%s = %q, want %q", k, env[k], want)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tpl := parseFixture(t)
	r := &Resolver{Template: tpl}
	tests := []struct {
		name string
		yaml string
	}{
		{"parameter without default", "!Ref Secret"},
		{"unknown ref", "!Ref Nope"},
		{"unknown getatt", "!GetAtt Nope.Arn"},
		{"unknown sub", `!Sub "${Nope}"`},
		{"import", "!ImportValue other-stack-output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl2, err := ParseBytes([]byte("Outputs:\n  X:\n    Value: " + tc.yaml + "\n"))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got, err := r.Resolve(tpl2.Outputs["X"]); err == nil {
				t.Errorf("Resolve(%s) = %q, want an error", tc.yaml, got)
			}
		})
	}
	r.Params = map[string]string{"Secret": "s3cret"}
	if got, err := r.Resolve(NewValue(map[string]any{"Ref": "Secret"})); err != nil || got != "s3cret" {
		t.Errorf("Secret with override = %q, %v", got, err)
	}
}

func TestShortAndLongFormsAgree(t *testing.T) {
	short, err := ParseBytes([]byte(`Outputs:
  A: {Value: !GetAtt T.Arn}
  B: {Value: !Sub ["${x}", {x: !Ref T}]}
  C: {Value: !If [Cond, !Ref AWS::NoValue, !Base64 abc]}
  D: {Value: !Select [0, !Split [",", "a,b"]]}
  E: {Value: !GetAZs ""}
`))
	if err != nil {
		t.Fatal(err)
	}
	long, err := ParseBytes([]byte(`Outputs:
  A: {Value: {"Fn::GetAtt": [T, Arn]}}
  B: {Value: {"Fn::Sub": ["${x}", {x: {Ref: T}}]}}
  C: {Value: {"Fn::If": [Cond, {Ref: AWS::NoValue}, {"Fn::Base64": abc}]}}
  D: {Value: {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}}
  E: {Value: {"Fn::GetAZs": ""}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(short.Outputs, long.Outputs) {
		t.Errorf("short forms\n%v\nlong forms\n%v", short.Outputs, long.Outputs)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, yaml string
	}{
		{"unknown tag", "Outputs:\n  A: {Value: !Bogus x}\n"},
		{"getatt without dot", "Outputs:\n  A: {Value: !GetAtt Nope}\n"},
		{"bad timeout", "Resources:\n  XFunction:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: soon}\n"},
		{"table without keys", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {BillingMode: PAY_PER_REQUEST}\n"},
		{"missing default authorizer", "Resources:\n  A:\n    Type: AWS::Serverless::HttpApi\n    Properties: {Auth: {DefaultAuthorizer: X}}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseBytes([]byte(tc.yaml)); err == nil {
				t.Errorf("ParseBytes accepted %q", tc.yaml)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	tpl := parseFixture(t)
	fn, _ := tpl.Function("IngestFunction")
	got := fn.Environment["SUBBED"].References()
	want := []Reference{
		{Kind: "Fn::Sub", Name: "AWS::Region"},
		{Kind: "Fn::Sub", Name: "Stage"},
		{Kind: "Fn::Sub", Name: "EventsTable"},
		{Kind: "Fn::Sub", Name: "Queue", Attribute: "Arn"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("References = %+v, want %+v", got, want)
	}
	got = fn.Environment["SUBVARS"].References()
	want = []Reference{{Kind: "Fn::Sub", Name: "Stage"}, {Kind: "Ref", Name: "Simple"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("References with Sub variables = %+v, want %+v", got, want)
	}
}

func TestFunctionNameMapping(t *testing.T) {
	tests := []struct {
		id, name string
		ok       bool
	}{
		{"CustomersFunction", "customers", true},
		{"ScoreFunction", "score", true},
		{"NightlyScoreFunction", "nightlyscore", true},
		{"Function", "", false},
		{"CustomersTable", "", false},
		{"Bad-NameFunction", "", false},
	}
	for _, tc := range tests {
		name, err := FunctionName(tc.id)
		if (err == nil) != tc.ok || name != tc.name {
			t.Errorf("FunctionName(%q) = %q, %v", tc.id, name, err)
		}
	}
	if dir, _ := PackageDir("CatalogFunction"); dir != "functions/catalog" {
		t.Errorf("PackageDir = %q", dir)
	}
	if p, _ := BinaryPath("/b", "CatalogFunction"); p != "/b/catalog/bootstrap" {
		t.Errorf("BinaryPath = %q", p)
	}
}

func TestNormalizedPath(t *testing.T) {
	if a, b := NormalizedPath("/v1/customers/{id}"), NormalizedPath("/v1/customers/{customerId}"); a != b {
		t.Errorf("%q != %q", a, b)
	}
	if got := NormalizedPath("/files/{proxy+}"); got != "/files/{+}" {
		t.Errorf("greedy = %q", got)
	}
}
