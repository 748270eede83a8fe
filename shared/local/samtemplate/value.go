package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Value is one template value in CloudFormation's JSON form: a string,
// number, bool, nil, []any or map[string]any, where an intrinsic function is a
// map with a single key such as "Ref" or "Fn::GetAtt". The YAML short tags
// (!Ref, !GetAtt, !Sub, ...) are converted to that form when parsing, so the
// two spellings of the same template give equal Values.
type Value struct {
	raw any
}

// NewValue wraps a value already in CloudFormation's JSON form.
func NewValue(raw any) Value { return Value{raw: raw} }

// Raw returns the value in CloudFormation's JSON form.
func (v Value) Raw() any { return v.raw }

// IsZero reports whether the value is absent.
func (v Value) IsZero() bool { return v.raw == nil }

// Literal returns the value as a string when it is a plain scalar (string,
// number or bool) rather than an intrinsic function or a collection.
func (v Value) Literal() (string, bool) {
	switch x := v.raw.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// Intrinsic returns the function name ("Ref", "Fn::GetAtt", "Fn::Sub", ...)
// and its argument when the value is an intrinsic function call.
func (v Value) Intrinsic() (name string, arg Value, ok bool) {
	m, isMap := v.raw.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", Value{}, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, Value{raw: a}, true
		}
	}
	return "", Value{}, false
}

// Ref returns the logical id or parameter named by a Ref.
func (v Value) Ref() (string, bool) {
	name, arg, ok := v.Intrinsic()
	if !ok || name != "Ref" {
		return "", false
	}
	s, ok := arg.raw.(string)
	return s, ok
}

// GetAtt returns the resource and attribute named by an Fn::GetAtt.
func (v Value) GetAtt() (resource, attribute string, ok bool) {
	name, arg, isFn := v.Intrinsic()
	if !isFn || name != "Fn::GetAtt" {
		return "", "", false
	}
	return splitGetAtt(arg.raw)
}

func splitGetAtt(arg any) (resource, attribute string, ok bool) {
	switch a := arg.(type) {
	case string:
		resource, attribute, ok = strings.Cut(a, ".")
		return resource, attribute, ok
	case []any:
		if len(a) != 2 {
			return "", "", false
		}
		r, ok1 := a[0].(string)
		at, ok2 := a[1].(string)
		return r, at, ok1 && ok2
	}
	return "", "", false
}

// Map returns the value's entries when it is a plain mapping.
func (v Value) Map() (map[string]Value, bool) {
	if _, _, fn := v.Intrinsic(); fn {
		return nil, false
	}
	m, ok := v.raw.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]Value, len(m))
	for k, x := range m {
		out[k] = Value{raw: x}
	}
	return out, true
}

// List returns the value's elements when it is a sequence.
func (v Value) List() ([]Value, bool) {
	l, ok := v.raw.([]any)
	if !ok {
		return nil, false
	}
	out := make([]Value, len(l))
	for i, x := range l {
		out[i] = Value{raw: x}
	}
	return out, true
}

// Reference is one name a value depends on: a Ref, the resource of a GetAtt,
// or a ${Name} / ${Name.Attr} inside an Fn::Sub string.
type Reference struct {
	// Kind is "Ref", "Fn::GetAtt" or "Fn::Sub".
	Kind string
	// Name is the logical id, parameter or pseudo parameter referred to.
	Name string
	// Attribute is set for GetAtt and for ${Name.Attr} in Sub.
	Attribute string
}

// References lists every name the value refers to, in a stable order.
// Variables that an Fn::Sub defines itself are not listed.
func (v Value) References() []Reference {
	var refs []Reference
	collectRefs(v.raw, &refs)
	return refs
}

func collectRefs(raw any, refs *[]Reference) {
	switch x := raw.(type) {
	case []any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	case map[string]any:
		name, arg, ok := Value{raw: x}.Intrinsic()
		if !ok {
			keys := sortedKeys(x)
			for _, k := range keys {
				collectRefs(x[k], refs)
			}
			return
		}
		switch name {
		case "Ref":
			if s, ok := arg.raw.(string); ok {
				*refs = append(*refs, Reference{Kind: name, Name: s})
			}
		case "Fn::GetAtt":
			if r, a, ok := splitGetAtt(arg.raw); ok {
				*refs = append(*refs, Reference{Kind: name, Name: r, Attribute: a})
			}
		case "Fn::Sub":
			text, vars := subArgs(arg.raw)
			for _, p := range subPlaceholders(text) {
				if _, local := vars[p]; local {
					continue
				}
				r, a, _ := strings.Cut(p, ".")
				*refs = append(*refs, Reference{Kind: name, Name: r, Attribute: a})
			}
			for _, k := range sortedKeys(vars) {
				collectRefs(vars[k], refs)
			}
		case "Condition":
			// A condition name, not a resource: nothing to list.
		default:
			collectRefs(arg.raw, refs)
		}
	}
}

// subArgs splits an Fn::Sub argument into its text and its variable map.
func subArgs(arg any) (string, map[string]any) {
	switch a := arg.(type) {
	case string:
		return a, nil
	case []any:
		if len(a) == 0 {
			return "", nil
		}
		text, _ := a[0].(string)
		var vars map[string]any
		if len(a) > 1 {
			vars, _ = a[1].(map[string]any)
		}
		return text, vars
	}
	return "", nil
}

// subPlaceholders returns the names inside ${...} in an Fn::Sub string,
// skipping the ${!Literal} escape.
func subPlaceholders(text string) []string {
	var out []string
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			return out
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return out
		}
		name := text[i+2 : i+j]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		text = text[i+j+1:]
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String renders the value compactly for messages, with intrinsics in their
// short YAML spelling.
func (v Value) String() string {
	if s, ok := v.Literal(); ok {
		return s
	}
	if name, arg, ok := v.Intrinsic(); ok {
		short := strings.TrimPrefix(name, "Fn::")
		if r, a, ok := v.GetAtt(); ok {
			return "!GetAtt " + r + "." + a
		}
		if s, ok := arg.Literal(); ok {
			return "!" + short + " " + s
		}
		b, _ := json.Marshal(arg.raw)
		return "!" + short + " " + string(b)
	}
	b, _ := json.Marshal(v.raw)
	return string(b)
}

// MarshalJSON writes the value in CloudFormation's JSON form.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.raw) }

// UnmarshalJSON reads a value in CloudFormation's JSON form.
func (v *Value) UnmarshalJSON(b []byte) error {
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v.raw = raw
	return nil
}

// shortTags maps each CloudFormation YAML short tag to its long name.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Not":          "Fn::Not",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// fromNode converts a YAML node to CloudFormation's JSON form, turning short
// tags into single-key maps. Numbers stay numbers (int64 or float64) so that
// Timeout: 10 and Timeout: "10" can both be read.
func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	}
	if long, ok := shortTags[n.Tag]; ok {
		arg, err := untaggedNode(n)
		if err != nil {
			return nil, err
		}
		if long == "Fn::GetAtt" {
			// !GetAtt Res.Attr is the dotted short form of ["Res", "Attr"].
			if s, ok := arg.(string); ok {
				r, a, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
				}
				arg = []any{r, a}
			}
		}
		return map[string]any{long: arg}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	return untaggedNode(n)
}

// untaggedNode converts a node ignoring any CloudFormation tag on it.
func untaggedNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == "!!merge" {
				merged, err := fromNode(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				if m, ok := merged.(map[string]any); ok {
					for mk, mv := range m {
						if _, set := out[mk]; !set {
							out[mk] = mv
						}
					}
				}
				continue
			}
			v, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.AliasNode:
		return fromNode(n.Alias)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

func scalar(n *yaml.Node) (any, error) {
	// A short tag replaces the YAML type tag, so decide the type from the
	// text the way YAML would have.
	tag := n.Tag
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			tag = "!!str"
		} else {
			tag = (&yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}).ShortTag()
		}
	}
	switch tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return f, nil
	}
	return n.Value, nil
}
