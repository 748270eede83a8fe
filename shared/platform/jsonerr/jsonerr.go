// Package jsonerr says why a JSON document did not decode into a Go value,
// in words fit for an API caller: it names the offending field but never
// echoes the document. The HTTP edge (apigw) and event decoding use it, so
// both word the same failure alike.
package jsonerr

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Describe explains err, which a json.Decoder with DisallowUnknownFields
// returned while decoding data into v, as a sentence about subject ("the
// body", "the event"). encoding/json reports an unknown field with an error
// of no type of its own, so Describe finds that field in data by v's type
// rather than reading it from the error's text.
func Describe(err error, data []byte, v any, subject string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s is not valid JSON (at byte %d)", subject, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be of type %s", typ.Field, typ.Type)
		}
		return fmt.Sprintf("%s must be a JSON %s", subject, typ.Type)
	case errors.Is(err, io.EOF):
		return subject + " is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return subject + " is not valid JSON (it ends too early)"
	}
	if name, ok := UnknownField(data, reflect.TypeOf(v)); ok {
		return fmt.Sprintf("unknown field %q", name)
	}
	return subject + " is not valid JSON"
}

// UnknownField returns the first object key in the first JSON value of
// data that encoding/json would find no field for when decoding into a
// value of type t: keys match field names or tags exactly or, failing
// that, without regard to case, embedded structs included. Values decoded
// by their own UnmarshalJSON or UnmarshalText, interfaces and map keys
// accept anything. ok is false when every key has a field or data is not
// valid JSON.
func UnknownField(data []byte, t reflect.Type) (name string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	name, ok, err := unknownIn(dec, t)
	return name, ok && err == nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unknownIn reads one value from dec as it would be decoded into t, nil
// for a value that accepts any content.
func unknownIn(dec *json.Decoder, t reflect.Type) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", false, nil
	}
	t = target(t)
	if delim == '[' {
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if name, found, err := unknownIn(dec, elem); found || err != nil {
				return name, found, err
			}
		}
		_, err := dec.Token()
		return "", false, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		key, _ := tok.(string)
		var inner reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Map:
			inner = t.Elem()
		case t.Kind() == reflect.Struct:
			f, known := fieldFor(t, key)
			if !known {
				return key, true, nil
			}
			inner = f
		}
		if name, found, err := unknownIn(dec, inner); found || err != nil {
			return name, found, err
		}
	}
	_, err = dec.Token()
	return "", false, err
}

// target follows pointers to the type a JSON object or array fills, or
// returns nil when that type takes any content: an interface, or a type
// that decodes itself.
func target(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Kind() == reflect.Interface {
			return nil
		}
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// field is one JSON field of a struct, possibly promoted from an embedded
// struct.
type field struct {
	name   string
	typ    reflect.Type
	index  []int // the path of struct field indexes from the outer struct
	tagged bool
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldFor returns the type of the struct field that takes key: an exact
// name match first, then the first match without regard to case, as
// encoding/json decides.
func fieldFor(t reflect.Type, key string) (reflect.Type, bool) {
	fs := fieldsOf(t)
	for _, f := range fs {
		if f.name == key {
			return f.typ, true
		}
	}
	for _, f := range fs {
		if strings.EqualFold(f.name, key) {
			return f.typ, true
		}
	}
	return nil, false
}

// fieldsOf lists the JSON fields of struct type t in field order by
// encoding/json's rules: exported fields by tag name or Go name, "-"
// skipped, the fields of untagged embedded structs promoted, and of
// several fields with one name only the shallowest kept, the tagged one
// when depths tie, none when that is still ambiguous.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	type embedded struct {
		typ   reflect.Type
		index []int
	}
	var all []field
	visited := map[reflect.Type]bool{}
	level := []embedded{{typ: t}}
	for len(level) > 0 {
		count := map[reflect.Type]int{}
		for _, e := range level {
			count[e.typ]++
		}
		var next []embedded
		for _, e := range level {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && !(sf.Anonymous && ft.Kind() == reflect.Struct) {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(e.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, embedded{ft, index})
					continue
				}
				f := field{name: name, typ: sf.Type, index: index, tagged: name != ""}
				if !f.tagged {
					f.name = sf.Name
				}
				all = append(all, f)
				if count[e.typ] > 1 {
					// The same struct embedded twice at one depth: its
					// fields are ambiguous, so let dominant drop them.
					all = append(all, f)
				}
			}
		}
		level = next
	}
	fs := dominant(all)
	slices.SortFunc(fs, func(a, b field) int { return slices.Compare(a.index, b.index) })
	fieldCache.Store(t, fs)
	return fs
}

// dominant keeps, for each name, the field encoding/json would use.
func dominant(all []field) []field {
	byName := map[string][]field{}
	var names []string
	for _, f := range all {
		if _, seen := byName[f.name]; !seen {
			names = append(names, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	var out []field
	for _, name := range names {
		rivals := byName[name]
		depth := len(slices.MinFunc(rivals, func(a, b field) int { return len(a.index) - len(b.index) }).index)
		rivals = slices.DeleteFunc(rivals, func(f field) bool { return len(f.index) > depth })
		if len(rivals) > 1 {
			rivals = slices.DeleteFunc(rivals, func(f field) bool { return !f.tagged })
		}
		if len(rivals) == 1 {
			out = append(out, rivals[0])
		}
	}
	return out
}
