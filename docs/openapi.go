// Package docs carries the HTTP API's OpenAPI document (openapi.yaml) into
// the binaries that serve it, as YAML and as JSON. It must not depend on any
// other package of the module: the document describes the code, not the
// other way round.
package docs

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns the OpenAPI document as written in docs/openapi.yaml.
// The slice is shared; callers must not modify it.
func OpenAPIYAML() []byte { return openAPIYAML }

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	return yamlToJSON(openAPIYAML)
})

// OpenAPIJSON returns the OpenAPI document converted to JSON, with the keys in
// the order the YAML gives them. It is converted once and then cached; the
// slice is shared and callers must not modify it.
func OpenAPIJSON() ([]byte, error) { return openAPIJSON() }

// yamlToJSON converts one YAML document to indented JSON. It walks the node
// tree rather than decoding into map[string]any so that mapping keys keep
// their order and numeric keys such as response codes stay strings.
func yamlToJSON(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	raw, err := nodeJSON(&doc)
	if err != nil {
		return nil, fmt.Errorf("convert openapi.yaml: %w", err)
	}
	out, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("convert openapi.yaml: %w", err)
	}
	return append(out, '\n'), nil
}

// nodeJSON encodes one YAML node as JSON.
func nodeJSON(n *yaml.Node) (json.RawMessage, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: want one document, got %d", n.Line, len(n.Content))
		}
		return nodeJSON(n.Content[0])
	case yaml.AliasNode:
		return nodeJSON(n.Alias)
	case yaml.MappingNode:
		buf := []byte{'{'}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: mapping keys must be plain scalars", k.Line)
			}
			key, _ := json.Marshal(k.Value)
			val, err := nodeJSON(v)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(append(append(buf, key...), ':'), val...)
		}
		return append(buf, '}'), nil
	case yaml.SequenceNode:
		buf := []byte{'['}
		for i, c := range n.Content {
			val, err := nodeJSON(c)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, val...)
		}
		return append(buf, ']'), nil
	case yaml.ScalarNode:
		return scalarJSON(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node kind %d", n.Line, n.Kind)
}

// scalarJSON encodes a scalar by its resolved YAML tag. Timestamps and
// anything else JSON has no type for stay strings, as written.
func scalarJSON(n *yaml.Node) (json.RawMessage, error) {
	switch n.ShortTag() {
	case "!!null":
		return json.RawMessage("null"), nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if f, ok := v.(float64); ok {
			// JSON has no NaN or infinities; keep such values as written.
			if out, err := json.Marshal(f); err == nil {
				return out, nil
			}
			return json.Marshal(n.Value)
		}
		return json.Marshal(v)
	}
	return json.Marshal(n.Value)
}
