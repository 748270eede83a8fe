package samtemplate

// These tests hold template.yaml to least privilege: every function's role
// names exact actions on the tables its own environment names, and the HTTP
// API keeps its throttling and its API key authorizer. The rules are written
// out in docs/security.md.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// starActions may use Resource "*" because AWS offers no narrower resource
// for them (X-Ray segments, CloudWatch metric data).
var starActions = map[string]bool{
	"xray:PutTraceSegments":    true,
	"xray:PutTelemetryRecords": true,
	"cloudwatch:PutMetricData": true,
}

// policyTemplates are the SAM policy templates a function may use: each
// is scoped to the one resource it names and grants no more than a function
// of that kind needs. Every DynamoDB template is broader than our functions
// need (DynamoDBReadPolicy adds Scan, DynamoDBCrudPolicy everything), so
// tables are always granted by inline statements with exact actions.
var policyTemplates = map[string]bool{
	"SQSSendMessagePolicy": true,
	"SQSPollerPolicy":      true,
}

// policyProblems lists every least-privilege rule the template's functions
// break.
func policyProblems(tpl *Template) []string {
	var out []string
	for _, fn := range tpl.Functions {
		bad := func(format string, args ...any) {
			out = append(out, fn.LogicalID+": "+fmt.Sprintf(format, args...))
		}
		envTables := map[string]bool{}
		for _, v := range fn.Environment {
			if ref, ok := v.Ref(); ok && isTable(tpl, ref) {
				envTables[ref] = true
			}
		}
		if fn.Policies.IsZero() {
			continue
		}
		policies, ok := fn.Policies.List()
		if !ok {
			policies = []Value{fn.Policies}
		}
		for _, p := range policies {
			if name, isString := p.Literal(); isString {
				bad("managed policy %s: grant exact actions in an inline Statement instead", name)
				continue
			}
			m, ok := p.Map()
			if !ok {
				bad("policy %s is neither a Statement nor a policy template", p)
				continue
			}
			stmts, isInline := m["Statement"]
			if !isInline {
				for name := range m {
					if !policyTemplates[name] {
						bad("SAM policy template %s is broader than needed or not reviewed; write an inline Statement with exact actions", name)
					}
				}
				continue
			}
			list, ok := stmts.List()
			if !ok {
				list = []Value{stmts}
			}
			for _, st := range list {
				out = append(out, statementProblems(tpl, fn.LogicalID, envTables, st)...)
			}
		}
	}
	return out
}

func isTable(tpl *Template, id string) bool {
	typ := tpl.Resources[id].Type
	return typ == TypeTable || typ == TypeSimpleTable
}

// strings of a value that may be one string or a list of them.
func literals(v Value) ([]string, bool) {
	if s, ok := v.Literal(); ok {
		return []string{s}, true
	}
	l, ok := v.List()
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.Literal()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func statementProblems(tpl *Template, fnID string, envTables map[string]bool, st Value) []string {
	var out []string
	bad := func(format string, args ...any) {
		out = append(out, fnID+": "+fmt.Sprintf(format, args...))
	}
	m, ok := st.Map()
	if !ok {
		return []string{fnID + ": a statement is not a mapping"}
	}
	if effect, _ := m["Effect"].Literal(); effect != "Allow" {
		// Deny statements only narrow a role.
		return nil
	}
	if _, ok := m["NotAction"]; ok {
		bad("NotAction grants everything else; list the actions")
	}
	if _, ok := m["NotResource"]; ok {
		bad("NotResource grants everything else; list the resources")
	}
	actions, ok := literals(m["Action"])
	if !ok || len(actions) == 0 {
		bad("Action %s must be literal action names", m["Action"])
		return out
	}
	dynamo, allStar := false, true
	for _, a := range actions {
		if strings.ContainsAny(a, "*?") {
			bad("action %s is a wildcard; name each action", a)
		}
		if strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
			dynamo = true
		}
		allStar = allStar && starActions[a]
	}
	resources, ok := m["Resource"].List()
	if !ok {
		resources = []Value{m["Resource"]}
	}
	for _, r := range resources {
		if s, ok := r.Literal(); ok {
			switch {
			case s == "*" && allStar:
			case s == "*":
				bad("Resource \"*\" for %s; only %s may use it", strings.Join(actions, ", "), strings.Join(sortedKeys(starActions), ", "))
			default:
				bad("Resource %q is a literal; name template resources with !GetAtt or !Sub", s)
			}
			continue
		}
		name, arg, _ := r.Intrinsic()
		var res, rest string
		switch name {
		case "Fn::GetAtt":
			id, attr, _ := r.GetAtt()
			if attr != "Arn" {
				bad("Resource %s: want the Arn attribute", r)
				continue
			}
			res = id
		case "Fn::Sub":
			text, vars := subArgs(arg.raw)
			if len(vars) > 0 || !strings.HasPrefix(text, "${") {
				bad("Resource %s: want !Sub \"${Resource.Arn}/...\"", r)
				continue
			}
			end := strings.IndexByte(text, '}')
			id, attr, _ := strings.Cut(text[2:end], ".")
			if attr != "Arn" {
				bad("Resource %s: want ${Resource.Arn}", r)
				continue
			}
			res, rest = id, text[end+1:]
			if strings.Contains(rest, "${") {
				bad("Resource %s: one resource per ARN", r)
				continue
			}
		default:
			bad("Resource %s: want !GetAtt X.Arn or !Sub \"${X.Arn}/index/...\"", r)
			continue
		}
		if _, declared := tpl.Resources[res]; !declared {
			bad("Resource %s names no resource of the template", r)
			continue
		}
		if !dynamo {
			continue
		}
		if !isTable(tpl, res) {
			bad("DynamoDB actions on %s, which is not a table", res)
			continue
		}
		if !envTables[res] {
			bad("DynamoDB actions on %s, which the function's Environment does not name", res)
		}
		if rest != "" && !strings.HasPrefix(rest, "/index/") {
			bad("Resource %s: only the table or its /index/... may be named", r)
		}
	}
	return out
}

func TestFunctionsHaveLeastPrivilege(t *testing.T) {
	for _, p := range policyProblems(realTemplate(t)) {
		t.Error(p)
	}
}

func TestPolicyRulesCatchBroadGrants(t *testing.T) {
	tpl, err := ParseBytes([]byte(`
Resources:
  A:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}], AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]}
  B:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}], AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]}
  Q:
    Type: AWS::SQS::Queue
  GoodFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {A_TABLE: !Ref A}}
      Policies:
        - Statement:
            - {Effect: Allow, Action: [dynamodb:GetItem, dynamodb:Query], Resource: [!GetAtt A.Arn, !Sub "${A.Arn}/index/*"]}
            - {Effect: Allow, Action: [xray:PutTraceSegments], Resource: "*"}
            - {Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Q.Arn}
        - SQSSendMessagePolicy: {QueueName: !GetAtt Q.QueueName}
  BadFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {A_TABLE: !Ref A}}
      Policies:
        - AmazonDynamoDBFullAccess
        - DynamoDBCrudPolicy: {TableName: !Ref A}
        - Statement:
            - {Effect: Allow, Action: "dynamodb:*", Resource: !GetAtt A.Arn}
            - {Effect: Allow, Action: [dynamodb:GetItem], Resource: "*"}
            - {Effect: Allow, Action: [dynamodb:GetItem], Resource: !GetAtt B.Arn}
            - {Effect: Allow, Action: [dynamodb:GetItem], Resource: "arn:aws:dynamodb:eu-west-1:1:table/A"}
            - {Effect: Allow, Action: [dynamodb:GetItem], Resource: !Sub "${A.Arn}/stream/*"}
            - {Effect: Allow, Action: [dynamodb:GetItem], Resource: !Ref A}
            - {Effect: Allow, NotAction: [iam:PassRole], Resource: !GetAtt Q.Arn}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range policyProblems(tpl) {
		if !strings.HasPrefix(p, "BadFunction: ") {
			t.Errorf("a good grant was flagged: %s", p)
			continue
		}
		got = append(got, strings.TrimPrefix(p, "BadFunction: "))
	}
	sort.Strings(got)
	want := []string{
		"managed policy AmazonDynamoDBFullAccess",
		"SAM policy template DynamoDBCrudPolicy",
		"action dynamodb:* is a wildcard",
		`Resource "*" for dynamodb:GetItem`,
		"DynamoDB actions on B, which the function's Environment does not name",
		`Resource "arn:aws:dynamodb:eu-west-1:1:table/A" is a literal`,
		"only the table or its /index/... may be named",
		"Resource !Ref A: want !GetAtt X.Arn",
		"NotAction grants everything else",
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("no problem reported containing %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestKeysTableIsReadOnlyByTheAuthorizer: the key hashes are reachable by
// one role, with one action. Keys are created and revoked by operators
// with their own credentials (tailor keys), never by a function.
func TestKeysTableIsReadOnlyByTheAuthorizer(t *testing.T) {
	tpl := realTemplate(t)
	if _, ok := tpl.Table("KeysTable"); !ok {
		t.Fatal("no KeysTable")
	}
	for _, fn := range tpl.Functions {
		uses := false
		for _, v := range fn.Environment {
			for _, r := range v.References() {
				uses = uses || r.Name == "KeysTable"
			}
		}
		for _, r := range fn.Policies.References() {
			uses = uses || r.Name == "KeysTable"
		}
		if fn.LogicalID != "AuthorizerFunction" {
			if uses {
				t.Errorf("%s refers to KeysTable; only AuthorizerFunction may", fn.LogicalID)
			}
			continue
		}
		var actions []string
		policies, _ := fn.Policies.List()
		for _, p := range policies {
			m, _ := p.Map()
			stmts, _ := m["Statement"].List()
			for _, st := range stmts {
				sm, _ := st.Map()
				a, _ := literals(sm["Action"])
				actions = append(actions, a...)
				if res, attr, _ := sm["Resource"].GetAtt(); res != "KeysTable" || attr != "Arn" {
					t.Errorf("AuthorizerFunction grants on %s, want !GetAtt KeysTable.Arn only", sm["Resource"])
				}
			}
		}
		if len(policies) != 1 || strings.Join(actions, ",") != "dynamodb:GetItem" {
			t.Errorf("AuthorizerFunction may only dynamodb:GetItem KeysTable; it has %d policies, actions %v", len(policies), actions)
		}
		if len(fn.Events) > 0 {
			t.Errorf("AuthorizerFunction has events; it is invoked by API Gateway only")
		}
	}
}

// TestHTTPAPIsAreThrottledAndKeyed: every HTTP API keeps stage-wide
// throttling and puts every route behind the API key authorizer, configured
// the way the functions expect it.
func TestHTTPAPIsAreThrottledAndKeyed(t *testing.T) {
	tpl := realTemplate(t)
	for _, api := range tpl.HTTPAPIs {
		if api.Implicit {
			t.Errorf("routes on SAM's implicit HTTP API have no authorizer and no throttling; give them ApiId: !Ref HttpApi")
			continue
		}
		props, _ := tpl.Resources[api.LogicalID].Properties.Map()
		settings, _ := props["DefaultRouteSettings"].Map()
		for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
			n, err := intValue(settings[k], tpl.parameterDefaults(), k)
			if err != nil || n <= 0 {
				t.Errorf("%s: DefaultRouteSettings.%s is %s; every API needs a positive limit", api.LogicalID, k, settings[k])
			}
		}
		a, ok := api.Auth.Authorizers[api.Auth.DefaultAuthorizer]
		if !ok {
			t.Errorf("%s has no DefaultAuthorizer", api.LogicalID)
			continue
		}
		if a.FunctionLogicalID != "AuthorizerFunction" || a.PayloadFormatVersion != "2.0" || !a.EnableSimpleResponses ||
			strings.Join(a.IdentityHeaders, ",") != "Authorization" || a.ReauthorizeEvery <= 0 || a.ReauthorizeEvery > 300 {
			t.Errorf("%s authorizer %s: %+v; want AuthorizerFunction, payload 2.0, simple responses, identity header Authorization, cache 1-300 s",
				api.LogicalID, a.Name, a)
		}
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		api, _ := tpl.HTTPAPI(r.APIID)
		// The dashboard's static files and the OpenAPI document are the
		// only routes without a key (package auth's route test holds them
		// to its list of public routes); their function touches no table.
		if r.FunctionID == "DashboardFunction" && r.Authorizer == "" {
			fn, ok := tpl.Function(r.FunctionID)
			if !ok || !fn.Policies.IsZero() {
				t.Errorf("%s serves %s without a key, so it must have no policies", r.FunctionID, r.Key())
			}
			for name, v := range fn.Environment {
				if ref, isRef := v.Ref(); isRef && isTable(tpl, ref) {
					t.Errorf("%s serves %s without a key but is given the table %s (%s)", r.FunctionID, r.Key(), ref, name)
				}
			}
			continue
		}
		if r.Authorizer == "" || r.Authorizer != api.Auth.DefaultAuthorizer {
			t.Errorf("route %s of %s is served without the API key authorizer (Auth: %q)", r.Key(), r.FunctionID, r.Authorizer)
		}
	}
}
