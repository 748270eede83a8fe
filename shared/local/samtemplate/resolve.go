package samtemplate

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Local stand-ins for the deployment's pseudo parameters.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
)

// Resolver turns unresolved template values into the strings a local run
// uses. Every resource gets a physical name of TablePrefix+LogicalID, which
// is also how the local tables are named; ARNs are fake but well formed.
// A Resolver is safe for concurrent use once configured.
type Resolver struct {
	Template *Template
	// TablePrefix is prepended to logical ids to give physical names, e.g.
	// "tailor-local-".
	TablePrefix string
	// Params override parameter defaults.
	Params map[string]string
	// Region and AccountID default to DefaultRegion and DefaultAccountID.
	Region    string
	AccountID string
	// StackName is what AWS::StackName resolves to; defaults to the
	// TablePrefix without its trailing dash, or "tailor-local".
	StackName string
}

func (r *Resolver) region() string {
	if r.Region != "" {
		return r.Region
	}
	return DefaultRegion
}

func (r *Resolver) account() string {
	if r.AccountID != "" {
		return r.AccountID
	}
	return DefaultAccountID
}

func (r *Resolver) stack() string {
	if r.StackName != "" {
		return r.StackName
	}
	if s := strings.TrimRight(r.TablePrefix, "-_."); s != "" {
		return s
	}
	return "tailor-local"
}

// TableName returns the local physical name of a table (or any resource):
// TablePrefix followed by the logical id.
func (r *Resolver) TableName(logicalID string) string { return r.TablePrefix + logicalID }

// Parameter returns a parameter's value: the override if given, else the
// default.
func (r *Resolver) Parameter(name string) (string, error) {
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	p, ok := r.Template.Parameter(name)
	if !ok {
		return "", fmt.Errorf("parameter %s is not declared", name)
	}
	if !p.HasDefault {
		return "", fmt.Errorf("parameter %s has no default and no value was given", name)
	}
	return p.Default, nil
}

// Environment resolves every environment variable of a function.
func (r *Resolver) Environment(fn Function) (map[string]string, error) {
	out := make(map[string]string, len(fn.Environment))
	var problems []string
	for _, k := range sortedKeys(fn.Environment) {
		s, err := r.Resolve(fn.Environment[k])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", k, err))
			continue
		}
		out[k] = s
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("resolve environment of %s: %s", fn.LogicalID, strings.Join(problems, "; "))
	}
	return out, nil
}

// Resolve evaluates a value to a string. Lists become comma-joined, as
// CloudFormation does for list parameters.
func (r *Resolver) Resolve(v Value) (string, error) {
	x, err := r.eval(v.raw)
	if err != nil {
		return "", err
	}
	return render(x)
}

func render(x any) (string, error) {
	if l, ok := x.([]any); ok {
		parts := make([]string, len(l))
		for i, e := range l {
			s, err := render(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	if x == nil {
		return "", nil
	}
	s, ok := Value{raw: x}.Literal()
	if !ok {
		return "", fmt.Errorf("value %s is not a string", Value{raw: x})
	}
	return s, nil
}

// eval evaluates intrinsics inside x, leaving plain data as it is.
func (r *Resolver) eval(x any) (any, error) {
	switch v := x.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			ev, err := r.eval(e)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case map[string]any:
		name, arg, ok := Value{raw: v}.Intrinsic()
		if !ok {
			out := make(map[string]any, len(v))
			for k, e := range v {
				ev, err := r.eval(e)
				if err != nil {
					return nil, err
				}
				out[k] = ev
			}
			return out, nil
		}
		return r.intrinsic(name, arg.raw)
	}
	return x, nil
}

func (r *Resolver) intrinsic(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("!Ref needs a name")
		}
		return r.ref(s)
	case "Fn::GetAtt":
		res, attr, ok := splitGetAtt(arg)
		if !ok {
			return nil, fmt.Errorf("!GetAtt needs Resource.Attribute")
		}
		return r.getAtt(res, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, fmt.Errorf("!Join needs [delimiter, list]")
		}
		sep, _ := l[0].(string)
		items, err := r.eval(l[1])
		if err != nil {
			return nil, err
		}
		list, ok := items.([]any)
		if !ok {
			return nil, fmt.Errorf("!Join needs a list")
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if parts[i], err = render(e); err != nil {
				return nil, err
			}
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, fmt.Errorf("!Select needs [index, list]")
		}
		idx, err := r.eval(l[0])
		if err != nil {
			return nil, err
		}
		is, _ := render(idx)
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("!Select index %q: %w", is, err)
		}
		items, err := r.eval(l[1])
		if err != nil {
			return nil, err
		}
		list, ok := items.([]any)
		if !ok {
			if s, isStr := items.(string); isStr {
				for _, p := range strings.Split(s, ",") {
					list = append(list, p)
				}
			}
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("!Select index %d out of range", i)
		}
		return list[i], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, fmt.Errorf("!Split needs [delimiter, string]")
		}
		sep, _ := l[0].(string)
		sv, err := r.eval(l[1])
		if err != nil {
			return nil, err
		}
		s, err := render(sv)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, fmt.Errorf("!If needs [condition, then, else]")
		}
		cond, _ := l[0].(string)
		yes, err := r.condition(cond)
		if err != nil {
			return nil, err
		}
		if yes {
			return r.eval(l[1])
		}
		return r.eval(l[2])
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition":
		return r.evalCondition(map[string]any{name: arg})
	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, fmt.Errorf("!FindInMap needs [map, key, key]")
		}
		keys := make([]string, 3)
		for i, k := range l {
			ev, err := r.eval(k)
			if err != nil {
				return nil, err
			}
			if keys[i], err = render(ev); err != nil {
				return nil, err
			}
		}
		m, ok := r.Template.Mappings[keys[0]].Map()
		if !ok {
			return nil, fmt.Errorf("mapping %s is not declared", keys[0])
		}
		inner, ok := m[keys[1]].Map()
		if !ok {
			return nil, fmt.Errorf("mapping %s has no key %s", keys[0], keys[1])
		}
		val, ok := inner[keys[2]]
		if !ok {
			return nil, fmt.Errorf("mapping %s.%s has no key %s", keys[0], keys[1], keys[2])
		}
		return val.raw, nil
	case "Fn::Base64":
		ev, err := r.eval(arg)
		if err != nil {
			return nil, err
		}
		s, err := render(ev)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	}
	return nil, fmt.Errorf("%s cannot be resolved locally", name)
}

func (r *Resolver) condition(name string) (bool, error) {
	c, ok := r.Template.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared", name)
	}
	return r.evalCondition(c.raw)
}

func (r *Resolver) evalCondition(x any) (bool, error) {
	name, arg, ok := Value{raw: x}.Intrinsic()
	if !ok {
		if b, isBool := x.(bool); isBool {
			return b, nil
		}
		return false, fmt.Errorf("condition %s is not a condition function", Value{raw: x})
	}
	list, _ := arg.raw.([]any)
	switch name {
	case "Condition":
		s, _ := arg.raw.(string)
		return r.condition(s)
	case "Fn::Equals":
		if len(list) != 2 {
			return false, fmt.Errorf("!Equals needs two values")
		}
		a, err := r.eval(list[0])
		if err != nil {
			return false, err
		}
		b, err := r.eval(list[1])
		if err != nil {
			return false, err
		}
		as, err := render(a)
		if err != nil {
			return false, err
		}
		bs, err := render(b)
		if err != nil {
			return false, err
		}
		return as == bs, nil
	case "Fn::Not":
		if len(list) != 1 {
			return false, fmt.Errorf("!Not needs one condition")
		}
		v, err := r.evalCondition(list[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		and := name == "Fn::And"
		for _, c := range list {
			v, err := r.evalCondition(c)
			if err != nil {
				return false, err
			}
			if and && !v {
				return false, nil
			}
			if !and && v {
				return true, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s is not a condition function", name)
}

// ref resolves a Ref the way CloudFormation would for each resource type,
// with local names.
func (r *Resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.region(), nil
	case "AWS::AccountId":
		return r.account(), nil
	case "AWS::StackName":
		return r.stack(), nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", r.region(), r.account(), r.stack()), nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return nil, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if _, ok := r.Template.Parameter(name); ok {
		return r.Parameter(name)
	}
	res, ok := r.Template.Resources[name]
	if !ok {
		if name == ImplicitHTTPAPI {
			return r.TableName(name), nil
		}
		return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	switch res.Type {
	case TypeQueue:
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", r.region(), r.account(), r.TableName(name)), nil
	}
	return r.TableName(name), nil
}

// getAtt resolves the attributes local code is likely to read; ARNs follow
// each service's real format so code that parses them keeps working.
func (r *Resolver) getAtt(name, attr string) (any, error) {
	res, ok := r.Template.Resources[name]
	if !ok {
		return nil, fmt.Errorf("!GetAtt %s.%s: no such resource", name, attr)
	}
	phys := r.TableName(name)
	reg, acct := r.region(), r.account()
	switch res.Type + "." + attr {
	case TypeTable + ".Arn", TypeSimpleTable + ".Arn":
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", reg, acct, phys), nil
	case TypeTable + ".StreamArn":
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s/stream/1970-01-01T00:00:00.000", reg, acct, phys), nil
	case TypeFunction + ".Arn":
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", reg, acct, name), nil
	case TypeQueue + ".Arn":
		return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", reg, acct, phys), nil
	case TypeQueue + ".QueueName":
		return phys, nil
	case TypeQueue + ".QueueUrl":
		return r.ref(name)
	case TypeHTTPAPI + ".ApiEndpoint":
		return fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com", phys, reg), nil
	}
	if attr == "Arn" {
		service, kind := arnParts(res.Type)
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, reg, acct, kind, phys), nil
	}
	if attr == "Name" {
		return phys, nil
	}
	return nil, fmt.Errorf("!GetAtt %s.%s: attribute not known locally", name, attr)
}

// arnParts derives a service and resource kind from a resource type:
// AWS::Events::Rule gives ("events", "rule").
func arnParts(typ string) (service, kind string) {
	parts := strings.Split(typ, "::")
	if len(parts) != 3 {
		return "unknown", "resource"
	}
	return strings.ToLower(parts[1]), strings.ToLower(parts[2])
}

func (r *Resolver) sub(arg any) (any, error) {
	text, vars := subArgs(arg)
	if text == "" {
		if _, ok := arg.(string); !ok {
			if _, ok := arg.([]any); !ok {
				return nil, fmt.Errorf("!Sub needs a string or [string, map]")
			}
		}
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("!Sub: unterminated ${ in %q", text)
		}
		b.WriteString(text[:i])
		name := text[i+2 : i+j]
		text = text[i+j+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		name = strings.TrimSpace(name)
		var val any
		var err error
		if v, ok := vars[name]; ok {
			val, err = r.eval(v)
		} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			val, err = r.getAtt(res, attr)
		} else {
			val, err = r.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("!Sub ${%s}: %w", name, err)
		}
		s, err := render(val)
		if err != nil {
			return nil, fmt.Errorf("!Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
}
