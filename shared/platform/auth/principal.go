package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"tailor/shared/platform/errs"
)

// Reason says why a presented key was not accepted. It is for logs and
// metrics only; callers see one message for every reason, so that probing
// cannot tell an unknown key from a revoked one.
type Reason string

// The reasons a key is refused.
const (
	Malformed Reason = "malformed" // not "Bearer tlr_<id>_<secret>"
	Unknown   Reason = "unknown"   // no key with that id
	Mismatch  Reason = "mismatch"  // the id exists, the secret is wrong
	Revoked   Reason = "revoked"   // the key was revoked
)

// Principal is the caller a request's key identifies. Valid is false when
// the key was missing or refused; such a principal holds no scopes.
type Principal struct {
	KeyID  string
	Scopes []Scope
	Valid  bool
	// Reason is set when Valid is false.
	Reason Reason
}

// Has reports whether the principal is valid and holds scope s (or admin).
func (p Principal) Has(s Scope) bool { return p.Valid && Grants(p.Scopes, s) }

// Keys of the context the authorizer hands to every function. Values are
// strings, the one type API Gateway passes through unchanged everywhere.
const (
	ctxKeyID  = "keyId"
	ctxScopes = "scopes"
	ctxValid  = "valid"
	ctxReason = "reason"
)

// Context renders the principal as the authorizer's response context, which
// API Gateway passes to the function as requestContext.authorizer.lambda.
func (p Principal) Context() map[string]any {
	m := map[string]any{ctxValid: "false"}
	if p.KeyID != "" {
		m[ctxKeyID] = p.KeyID
	}
	if p.Valid {
		m[ctxValid] = "true"
		m[ctxScopes] = JoinScopes(p.Scopes)
	} else if p.Reason != "" {
		m[ctxReason] = string(p.Reason)
	}
	return m
}

// PrincipalFromContext reads the authorizer context back. Anything short
// of an explicit valid flag and a well-formed key id is an invalid
// principal: a request that reached a function without the authorizer
// (a route with Authorizer: NONE, a direct invoke) has no scopes.
func PrincipalFromContext(m map[string]any) Principal {
	id, _ := m[ctxKeyID].(string)
	p := Principal{KeyID: id}
	switch v := m[ctxValid].(type) {
	case string:
		p.Valid = v == "true"
	case bool:
		p.Valid = v
	}
	if !ValidKeyID(id) {
		p.Valid = false
	}
	if !p.Valid {
		p.Reason = Malformed
		if r, ok := m[ctxReason].(string); ok && r != "" {
			p.Reason = Reason(r)
		}
		return p
	}
	raw, _ := m[ctxScopes].(string)
	for _, f := range strings.Fields(raw) {
		if s := Scope(f); s.Valid() {
			p.Scopes = append(p.Scopes, s)
		}
	}
	return p
}

// KeyLookup finds a key record by id. A missing key is an errs.NotFound
// error; any other error means the answer is not known.
type KeyLookup interface {
	Get(ctx context.Context, keyID string) (Record, error)
}

// KeyStore keeps key records: the authorizer looks keys up, and the
// operator's tool (tailor keys) creates, revokes and lists them. Package
// dynamo implements it on DynamoDB and package memory in memory; both are
// safe for concurrent use.
type KeyStore interface {
	KeyLookup
	// Create stores a new record; an existing id is an errs.Conflict
	// error and leaves the stored record as it was.
	Create(ctx context.Context, r Record) error
	// Revoke marks the key revoked at the given time and returns the
	// record. Revoking a revoked key keeps the first time; an unknown key
	// is an errs.NotFound error.
	Revoke(ctx context.Context, keyID string, at time.Time) (Record, error)
	// List returns every record, oldest first.
	List(ctx context.Context) ([]Record, error)
}

// Authenticate turns an Authorization header into a principal. A key that
// is malformed, unknown, wrong or revoked gives an invalid principal and no
// error; an error means the key could not be checked (the store failed),
// and the request must fail rather than be cached as refused.
func Authenticate(ctx context.Context, keys KeyLookup, header string) (Principal, error) {
	token, ok := BearerToken(header)
	if !ok {
		return Principal{Reason: Malformed}, nil
	}
	id, ok := ParseKey(token)
	if !ok {
		return Principal{Reason: Malformed}, nil
	}
	rec, err := keys.Get(ctx, id)
	switch {
	case errs.Is(err, errs.NotFound):
		return Principal{KeyID: id, Reason: Unknown}, nil
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate key %s: %w", id, err)
	}
	if !rec.matches(token) {
		return Principal{KeyID: id, Reason: Mismatch}, nil
	}
	if rec.Revoked() {
		return Principal{KeyID: id, Reason: Revoked}, nil
	}
	return Principal{KeyID: id, Scopes: rec.Scopes, Valid: true}, nil
}

// ErrNoScopeDeclared marks a route missing from the route table: a
// programming error that denies the route to everyone.
var ErrNoScopeDeclared = errors.New("route has no declared scope")

// Check decides whether p may call routeKey: nil for a public route;
// otherwise Unauthorized without a valid key, Forbidden when the route
// needs a scope p lacks or declares none.
func Check(p Principal, routeKey string) error {
	if IsPublic(routeKey) {
		return nil
	}
	if !p.Valid {
		return &errs.Error{Op: "authorize " + routeKey, Kind: errs.Unauthorized,
			Detail: "a valid API key is required in the header Authorization: Bearer tlr_..."}
	}
	need, ok := RequiredScope(routeKey)
	if !ok {
		return &errs.Error{Op: "authorize " + routeKey, Kind: errs.Forbidden,
			Detail: "this route is not open to any key", Err: ErrNoScopeDeclared}
	}
	if !Grants(p.Scopes, need) {
		return &errs.Error{Op: "authorize " + routeKey, Kind: errs.Forbidden,
			Detail: fmt.Sprintf("this API key lacks the scope %s", need)}
	}
	return nil
}
