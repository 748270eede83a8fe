// Package samtemplate reads a SAM template.yaml into plain structs: the
// parameters, the functions with their globals merged in, the DynamoDB
// tables, the HTTP APIs with their authorizers and routes, and a resolver for
// the intrinsic functions used in environment variables.
//
// It is what lets the local runner, the table creator and the template tests
// share one reading of template.yaml. It must not import any AWS SDK package:
// the store package turns these structs into API calls.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource types this package understands.
const (
	TypeFunction    = "AWS::Serverless::Function"
	TypeHTTPAPI     = "AWS::Serverless::HttpApi"
	TypeTable       = "AWS::DynamoDB::Table"
	TypeSimpleTable = "AWS::Serverless::SimpleTable"
	TypeQueue       = "AWS::SQS::Queue"
)

// ImplicitHTTPAPI is the logical id SAM gives the HTTP API it creates for
// HttpApi events that name no ApiId.
const ImplicitHTTPAPI = "ServerlessHttpApi"

// Template is a parsed SAM template.
type Template struct {
	// Description is the template's Description.
	Description string
	// Parameters in template order.
	Parameters []Parameter
	// Resources holds every resource by logical id, including the ones this
	// package has no struct for.
	Resources map[string]Resource
	// Functions in logical id order, with Globals.Function merged in.
	Functions []Function
	// Tables in logical id order (AWS::DynamoDB::Table and
	// AWS::Serverless::SimpleTable).
	Tables []Table
	// HTTPAPIs in logical id order, including SAM's implicit API when some
	// HttpApi event names no ApiId.
	HTTPAPIs []HTTPAPI
	// Conditions by name, for Fn::If.
	Conditions map[string]Value
	// Mappings by name, for Fn::FindInMap.
	Mappings map[string]Value
	// Outputs by name.
	Outputs map[string]Value
}

// Parameter is one template parameter.
type Parameter struct {
	// Name is the parameter's logical name; Type its CloudFormation type
	// (String, Number, CommaDelimitedList, ...).
	Name string
	Type string
	// Default is the default value rendered as a string; HasDefault tells an
	// empty default from none.
	Default    string
	HasDefault bool
	// AllowedValues and AllowedPattern are the declared constraints, for
	// checking overrides.
	AllowedValues  []string
	AllowedPattern string
	Description    string
}

// Resource is any template resource in raw form.
type Resource struct {
	// LogicalID and Type identify the resource; Properties and Metadata are
	// raw, and Condition names the condition guarding it, if any.
	LogicalID  string
	Type       string
	Properties Value
	Metadata   Value
	Condition  string
}

// Parse reads and parses a template file.
func Parse(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := ParseBytes(b)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// rawTemplate is the template's top level after short tags are expanded.
type rawTemplate struct {
	Description string                     `json:"Description"`
	Parameters  map[string]rawParameter    `json:"Parameters"`
	Globals     rawGlobals                 `json:"Globals"`
	Resources   map[string]rawResource     `json:"Resources"`
	Conditions  map[string]Value           `json:"Conditions"`
	Mappings    map[string]Value           `json:"Mappings"`
	Outputs     map[string]json.RawMessage `json:"Outputs"`
}

type rawParameter struct {
	Type           string  `json:"Type"`
	Default        Value   `json:"Default"`
	AllowedValues  []Value `json:"AllowedValues"`
	AllowedPattern string  `json:"AllowedPattern"`
	Description    string  `json:"Description"`
}

type rawGlobals struct {
	Function rawFunction `json:"Function"`
}

type rawResource struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
	Metadata   Value           `json:"Metadata"`
	Condition  string          `json:"Condition"`
}

// ParseBytes parses a template held in memory.
func ParseBytes(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode YAML: %w", err)
	}
	tree, err := fromNode(&doc)
	if err != nil {
		return nil, err
	}
	// Going through JSON lets plain struct tags describe the shapes while
	// intrinsic-valued fields stay Values.
	js, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("re-encode template: %w", err)
	}
	var raw rawTemplate
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("read template structure: %w", err)
	}
	t := &Template{
		Description: raw.Description,
		Resources:   make(map[string]Resource, len(raw.Resources)),
		Conditions:  raw.Conditions,
		Mappings:    raw.Mappings,
		Outputs:     make(map[string]Value, len(raw.Outputs)),
	}
	for name, o := range raw.Outputs {
		var out struct {
			Value Value `json:"Value"`
		}
		if err := json.Unmarshal(o, &out); err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		t.Outputs[name] = out.Value
	}
	if err := t.readParameters(b, raw.Parameters); err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(raw.Resources) {
		r := raw.Resources[id]
		var props Value
		if len(r.Properties) > 0 {
			if err := json.Unmarshal(r.Properties, &props); err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
		}
		t.Resources[id] = Resource{LogicalID: id, Type: r.Type, Properties: props, Metadata: r.Metadata, Condition: r.Condition}
		switch r.Type {
		case TypeFunction:
			fn, err := readFunction(id, raw.Globals.Function, r, t.parameterDefaults())
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			t.Functions = append(t.Functions, fn)
		case TypeTable:
			tb, err := readTable(id, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", id, err)
			}
			t.Tables = append(t.Tables, tb)
		case TypeSimpleTable:
			tb, err := readSimpleTable(id, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", id, err)
			}
			t.Tables = append(t.Tables, tb)
		case TypeHTTPAPI:
			api, err := readHTTPAPI(id, props)
			if err != nil {
				return nil, fmt.Errorf("HTTP API %s: %w", id, err)
			}
			t.HTTPAPIs = append(t.HTTPAPIs, api)
		}
	}
	t.addImplicitAPI()
	return t, nil
}

// readParameters keeps the parameters in template order, which a map loses.
func (t *Template) readParameters(src []byte, params map[string]rawParameter) error {
	order, err := topLevelKeys(src, "Parameters")
	if err != nil {
		return err
	}
	for _, name := range order {
		p, ok := params[name]
		if !ok {
			continue
		}
		out := Parameter{
			Name:           name,
			Type:           p.Type,
			AllowedPattern: p.AllowedPattern,
			Description:    p.Description,
		}
		if !p.Default.IsZero() {
			s, ok := p.Default.Literal()
			if !ok {
				if l, isList := p.Default.List(); isList {
					parts := make([]string, 0, len(l))
					for _, e := range l {
						es, _ := e.Literal()
						parts = append(parts, es)
					}
					s, ok = strings.Join(parts, ","), true
				}
			}
			if !ok {
				return fmt.Errorf("parameter %s: default %s is not a literal", name, p.Default)
			}
			out.Default, out.HasDefault = s, true
		}
		for _, a := range p.AllowedValues {
			s, _ := a.Literal()
			out.AllowedValues = append(out.AllowedValues, s)
		}
		t.Parameters = append(t.Parameters, out)
	}
	return nil
}

// topLevelKeys lists the keys of one top-level mapping in source order.
func topLevelKeys(src []byte, section string) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("decode YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != section || top.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := top.Content[i+1]
		keys := make([]string, 0, len(m.Content)/2)
		for j := 0; j+1 < len(m.Content); j += 2 {
			keys = append(keys, m.Content[j].Value)
		}
		return keys, nil
	}
	return nil, nil
}

// parameterDefaults maps each parameter with a default to that default.
func (t *Template) parameterDefaults() map[string]string {
	out := make(map[string]string, len(t.Parameters))
	for _, p := range t.Parameters {
		if p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	return out
}

// Parameter returns the named parameter.
func (t *Template) Parameter(name string) (Parameter, bool) {
	for _, p := range t.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}

// Function returns the function with the given logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Table returns the table with the given logical id.
func (t *Template) Table(logicalID string) (Table, bool) {
	for _, tb := range t.Tables {
		if tb.LogicalID == logicalID {
			return tb, true
		}
	}
	return Table{}, false
}

// HTTPAPI returns the HTTP API with the given logical id.
func (t *Template) HTTPAPI(logicalID string) (HTTPAPI, bool) {
	for _, a := range t.HTTPAPIs {
		if a.LogicalID == logicalID {
			return a, true
		}
	}
	return HTTPAPI{}, false
}

// addImplicitAPI adds SAM's implicit HTTP API when an HttpApi event names
// no ApiId, as SAM itself would.
func (t *Template) addImplicitAPI() {
	for _, f := range t.Functions {
		for _, e := range f.Events {
			if e.HTTPAPI != nil && e.HTTPAPI.APIID == ImplicitHTTPAPI {
				if _, ok := t.HTTPAPI(ImplicitHTTPAPI); !ok {
					t.HTTPAPIs = append(t.HTTPAPIs, HTTPAPI{LogicalID: ImplicitHTTPAPI, Implicit: true})
					sort.Slice(t.HTTPAPIs, func(i, j int) bool { return t.HTTPAPIs[i].LogicalID < t.HTTPAPIs[j].LogicalID })
				}
				return
			}
		}
	}
}

// intValue reads a number that may be written as a number or a string.
// A Ref to a parameter reads the parameter's default, because a number such
// as Timeout has to be known before deployment; other intrinsics are errors.
func intValue(v Value, defaults map[string]string, field string) (int, error) {
	if v.IsZero() {
		return 0, nil
	}
	s, ok := v.Literal()
	if ref, isRef := v.Ref(); isRef {
		s, ok = defaults[ref]
	}
	if !ok {
		return 0, fmt.Errorf("%s: %s is not a number", field, v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("%s: %q is not an integer", field, s)
	}
	return int(f), nil
}

// stringValue reads a field that must be a literal string.
func stringValue(v Value, field string) (string, error) {
	if v.IsZero() {
		return "", nil
	}
	s, ok := v.Literal()
	if !ok {
		return "", fmt.Errorf("%s: %s is not a literal", field, v)
	}
	return s, nil
}
